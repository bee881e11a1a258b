"""A status or header the legacy app should never have given is a logged 500, never a reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cutover.wsgi.errors import ERROR_500
from tests.cutover.stub_apps import BAD_STARTS
from tests.servers import Server, file_log_config, serve_gunicorn, serve_uvicorn

pytestmark = pytest.mark.slow

WAIT = 15.0


@pytest.fixture(scope="module", params=["bridged", "remote"], ids=["in-process", "out-of-process"])
def bridge(request: pytest.FixtureRequest) -> str:
    """The legacy mode: the bridge in the server's process, or in a worker process of its own."""
    return str(request.param)


@pytest.fixture(scope="module")
def log_file(bridge: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp(f"logs-{bridge}") / "server.log"


@pytest.fixture(scope="module")
def plain_bridged(bridge: str, log_file: Path) -> Iterator[Server]:
    config = file_log_config(log_file)
    with serve_uvicorn(
        f"tests.cutover.stub_apps:{bridge}_plain", "--factory", "--log-config", str(config)
    ) as server:
        yield server


@pytest.fixture(scope="module")
def flask_bridged(bridge: str, log_file: Path) -> Iterator[Server]:
    config = file_log_config(log_file)
    with serve_uvicorn(
        f"tests.cutover.stub_apps:{bridge}_flask", "--factory", "--log-config", str(config)
    ) as server:
        yield server


@pytest.fixture(scope="module")
def plain_gunicorn() -> Iterator[Server]:
    with serve_gunicorn("tests.cutover.stub_apps:plain_wsgi_app") as server:
        yield server


def logged_errors(log_file: Path, target: str) -> int:
    """How many times the bridge logged the failure of `GET target`."""
    line = f"ERROR cutover.wsgi Error handling request GET {target}"
    return log_file.read_text().splitlines().count(line)


@pytest.mark.parametrize("when", ["buffered", "late"])
@pytest.mark.parametrize("kind", sorted(BAD_STARTS))
def test_bad_status_or_header_is_a_logged_500_not_a_reset(
    plain_bridged: Server, log_file: Path, kind: str, when: str
) -> None:
    target = f"/bad-start/{kind}" + ("?late" if when == "late" else "")
    with httpx.Client(base_url=plain_bridged.url, timeout=WAIT) as client:
        response = client.get(target)
        assert (response.status_code, response.content) == (500, ERROR_500)
        assert "x-bad" not in response.headers
        assert "x-injected" not in response.headers
        # The connection and the bridge keep serving.
        assert client.get("/declared-length").content == b"hello"
    assert logged_errors(log_file, target) == 1


@pytest.mark.parametrize("kind", sorted(BAD_STARTS))
def test_bad_status_or_header_answers_what_gunicorn_answers(
    plain_bridged: Server, plain_gunicorn: Server, kind: str
) -> None:
    expected = httpx.get(f"{plain_gunicorn.url}/bad-start/{kind}", timeout=WAIT)
    seen = httpx.get(f"{plain_bridged.url}/bad-start/{kind}", timeout=WAIT)
    assert (seen.status_code, seen.content) == (expected.status_code, expected.content)
    assert seen.headers["content-type"] == expected.headers["content-type"]


def test_a_nul_in_a_flask_header_is_a_logged_500(flask_bridged: Server, log_file: Path) -> None:
    with httpx.Client(base_url=flask_bridged.url, timeout=WAIT) as client:
        response = client.get("/nul-header")
        assert (response.status_code, response.content) == (500, ERROR_500)
        assert client.get("/json").json() == {"ok": True}
    assert logged_errors(log_file, "/nul-header") == 1
