"""Replays one request sequence on the legacy and the new side and normalises the answers.

A `Step` is one request; `Account` names in a step (`bearer`, `basic`) resolve per side, since
each side mints its own tokens. Answers are reduced to what clients depend on: status, the
headers that matter and the exact body bytes with only tokens and timestamps masked.
"""

import base64
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

HTTP_DATE = re.compile(rb"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")
TOKEN_FIELD = re.compile(rb'"token":"[A-Za-z0-9_-]+"')
COMPARED_HEADERS = ("content-type", "location", "www-authenticate", "cache-control", "vary")
PASSWORD = "correct horse"


@dataclass(frozen=True)
class Step:
    """One request; `bearer` names a token saved by an earlier step's `save_token`."""

    method: str
    path: str
    json: Any = None
    content: bytes | str | None = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    bearer: str | None = None
    basic: tuple[str, str] | None = None
    save_token: str | None = None
    upstream: str | None = None  # switch the upstream test server's behaviour first
    differs: str | None = None  # a deliberate difference: why the ports answer otherwise
    # A deliberate difference of the FastAPI app alone (behind the gateway, Flask's routing
    # still decides which side serves the path): why it answers otherwise.
    standalone_differs: str | None = None

    @property
    def label(self) -> str:
        extras = [
            f"{k}={v!r}"
            for k in ("json", "content", "data", "bearer", "basic")
            if (v := getattr(self, k)) is not None
        ]
        return " ".join([self.method, self.path, *extras])[:160]


def user(name: str, **extra: Any) -> Step:
    """Sign up `name` with the standard password."""
    return Step(
        "POST",
        "/api/users",
        json={"username": name, "email": f"{name}@example.com", "password": PASSWORD, **extra},
    )


def login(name: str) -> Step:
    """Mint a token for `name`, saved under the same name."""
    return Step("POST", "/api/tokens", basic=(name, PASSWORD), save_token=name)


@dataclass(frozen=True)
class Answer:
    """The parts of a response parity is judged on."""

    status: int
    headers: dict[str, str]
    allow: frozenset[str]
    cookies: tuple[str, ...]
    body: bytes


def normalise(response: httpx.Response) -> Answer:
    body = HTTP_DATE.sub(b"<date>", response.content)
    body = TOKEN_FIELD.sub(b'"token":"<token>"', body)
    allow = response.headers.get("allow")
    return Answer(
        status=response.status_code,
        headers={
            name: response.headers[name] for name in COMPARED_HEADERS if name in response.headers
        },
        allow=frozenset(m.strip() for m in allow.split(",")) if allow else frozenset(),
        cookies=tuple(sorted(c.split("=", 1)[0] for c in response.headers.get_list("set-cookie"))),
        body=body,
    )


def _auth_header(step: Step, tokens: dict[str, str]) -> dict[str, str]:
    if step.bearer is not None:
        return {"Authorization": f"Bearer {tokens.get(step.bearer, step.bearer)}"}
    if step.basic is not None:
        raw = f"{step.basic[0]}:{step.basic[1]}".encode()
        return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}
    return {}


async def send(client: httpx.AsyncClient, step: Step, tokens: dict[str, str]) -> httpx.Response:
    """Send `step`, saving a minted token when the step asks to."""
    response = await client.request(
        step.method,
        step.path,
        json=step.json,
        content=step.content,
        data=step.data,
        files=step.files,
        headers={**step.headers, **_auth_header(step, tokens)},
    )
    if step.save_token is not None and response.status_code == 200:
        tokens[step.save_token] = response.json()["token"]
    return response
