"""The reference app's extensions of cutover.parity: its accounts and per-side tokens, the
upstream server /fetch-data calls, and the FastAPI app run alone beside the gateway.

Each side mints its own tokens, so a step names an account (`bearer="alice"`) and the token
that side's run kept for it (`login`) is sent; `upstream` switches the upstream test server
before the step on each side; `standalone_differs` is a deliberate difference of the FastAPI
app alone (behind the gateway, Flask's routing still decides which side serves the path).
"""

import base64
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from cutover.parity import Step, keep_json_field
from cutover.parity import bearer as kept_bearer
from tests.legacy.upstream import Behaviour, UpstreamServer

PASSWORD = "correct horse"


@dataclass(frozen=True, kw_only=True)
class Case(Step):
    """A step of the reference app's sequences."""

    upstream: Behaviour | None = None
    standalone_differs: str | None = None


def basic_auth(name: str, password: str) -> dict[str, str]:
    raw = f"{name}:{password}".encode()
    return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}


def H(
    method: str,
    path: str,
    *,
    bearer: str | None = None,
    basic: tuple[str, str] | None = None,
    save_token: str | None = None,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Case:
    """A step; `bearer` sends the token this side minted for that account, `basic` HTTP
    Basic credentials, `save_token` keeps the token a `POST /api/tokens` answer mints."""
    sent = dict(headers or {})
    if basic is not None:
        sent.update(basic_auth(*basic))
    return Case(
        method,
        path,
        headers=sent,
        auth=kept_bearer(bearer) if bearer is not None else None,
        keep=keep_json_field("token", save_token) if save_token is not None else None,
        **fields,
    )


def user(name: str, **extra: Any) -> Case:
    """Sign up `name` with the standard password."""
    return H(
        "POST",
        "/api/users",
        json={"username": name, "email": f"{name}@example.com", "password": PASSWORD, **extra},
    )


def login(name: str) -> Case:
    """Mint a token for `name`, kept under the same name."""
    return H("POST", "/api/tokens", basic=(name, PASSWORD), save_token=name)


def with_upstream(steps: Sequence[Step], upstream: UpstreamServer) -> list[Step]:
    """`steps` with each `upstream` behaviour bound to the server, switched before the step."""
    return [
        replace(step, before=partial(upstream.set_behaviour, step.upstream))
        if isinstance(step, Case) and step.upstream is not None
        else step
        for step in steps
    ]


def standalone(steps: Sequence[Step]) -> list[Step]:
    """`steps` as the FastAPI app alone answers them: its own deliberate differences listed."""
    return [
        replace(step, differs=step.differs or step.standalone_differs)
        if isinstance(step, Case) and step.standalone_differs is not None
        else step
        for step in steps
    ]
