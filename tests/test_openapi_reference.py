"""The reference gateway's one OpenAPI document, fuzzed by schemathesis from that document against
the running gateway (uvicorn on loopback, a fresh seeded SQLite database, the demo upstream), once
with the ported routes on the new side and once with every route switched to legacy: no answer
may be a server error on either side. Bounded: 5 examples an operation, 25 seconds a run."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import BIN, PROJECT_ROOT, Server, free_port, serve_uvicorn

schemathesis = pytest.importorskip("schemathesis")
validator = pytest.importorskip("openapi_spec_validator")

pytestmark = pytest.mark.slow
RUN_SECONDS = 25  # each of the two runs; the coverage and fuzzing phases
ADMIN_TOKEN = "schemathesis-admin-token"


def _seeded_database(directory: Path) -> str:
    from shared_models import create_engine_for, make_sessionmaker
    from shared_models.seed import seed
    from tests.database import reset_schema

    url = f"sqlite:///{directory / 'reference.db'}"
    reset_schema(url)
    engine = create_engine_for(url)
    with make_sessionmaker(engine)() as session:
        seed(session)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """The demo upstream `/fetch-data` calls, as `make run` serves it."""
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--directory", str(PROJECT_ROOT / "demo_upstream")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/data.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/data.json"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def reference(
    upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str]]:
    url = _seeded_database(tmp_path_factory.mktemp("openapi"))
    env = {
        "DATABASE_URL": url,
        "UPSTREAM_URL": upstream,
        "CUTOVER_ADMIN_TOKEN": ADMIN_TOKEN,
        "CUTOVER_SERVED_BY_HEADER": "true",
        "CUTOVER_ACCESS_LOG": "false",
        "CUTOVER_PUBLISH_INTERVAL": "0.5",
        "CUTOVER_STATE_POLL_INTERVAL": "0.2",
    }
    with serve_uvicorn("gateway:app", env=env) as server:
        yield server, url


def _bearer(server: Server) -> str:
    from shared_models.seed import DEMO_PASSWORD

    answer = httpx.post(f"{server.url}/api/tokens", auth=("alice", DEMO_PASSWORD), timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def _fuzz(server: Server, token: str) -> str:
    """schemathesis against every operation of the document but the token's revocation (it
    would log the run out); its output, after asserting it found no server error."""
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{server.url}/_cutover/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "5",
        "--max-time",
        str(RUN_SECONDS),
        "--phases",
        "coverage,fuzzing",
        "--seed",
        "12",
        "--request-timeout",
        "10",
        "--exclude-operation-id",
        "delete_token_api_tokens_delete",
        "--header",
        f"Authorization: Bearer {token}",
        "--no-color",
    ]
    started = time.monotonic()
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_SECONDS + 60, cwd=PROJECT_ROOT
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert "Server error" not in output, output[-6000:]
    assert time.monotonic() - started < RUN_SECONDS + 30
    return output


def _served_by(server: Server, path: str) -> str:
    return httpx.get(f"{server.url}{path}", timeout=10).headers["x-cutover-served-by"]


def _side_counts(server: Server) -> dict[str, int]:
    metrics = httpx.get(f"{server.url}/_cutover/metrics", timeout=10).text
    counts: dict[str, int] = {}
    for side, value in re.findall(
        r'cutover_requests_total\{[^}]*side="(\w+)"[^}]*\} (\S+)', metrics
    ):
        counts[side] = counts.get(side, 0) + int(float(value))
    return counts


@pytest.mark.timeout(240)
def test_schemathesis_finds_no_server_error_on_either_side(reference: tuple[Server, str]) -> None:
    from cutover.control.modes import LEGACY
    from cutover.control.store import StateStore

    server, url = reference
    token = _bearer(server)
    assert _served_by(server, "/api/hello") == "new"
    _fuzz(server, token)
    new_side = _side_counts(server)
    assert new_side.get("new", 0) > 100

    store = StateStore(url)
    try:
        store.switch_all(LEGACY, actor="schemathesis", reason="fuzz the legacy side")
    finally:
        store.dispose()
    deadline = time.monotonic() + 10
    while _served_by(server, "/api/hello") != "legacy" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _served_by(server, "/api/hello") == "legacy"
    _fuzz(server, token)
    assert _side_counts(server).get("legacy", 0) > new_side.get("legacy", 0) + 100


def test_the_served_document_is_valid_and_learned_from_the_traffic(
    reference: tuple[Server, str],
) -> None:
    server, _ = reference
    for path in ("/api/hello", "/api/users", "/items", "/admin/login"):
        assert httpx.get(f"{server.url}{path}", timeout=10).status_code == 200
    deadline = time.monotonic() + 15
    document: dict[str, object] = {}
    while time.monotonic() < deadline:
        document = httpx.get(f"{server.url}/_cutover/openapi.json", timeout=10).json()
        login = document["paths"]["/admin/login"]["get"]  # type: ignore[index]
        if "200" in login["responses"]:
            break
        time.sleep(0.5)
    validator.validate(document)
    login = document["paths"]["/admin/login"]["get"]  # type: ignore[index]
    assert login["responses"]["200"]["x-cutover-inferred"] is True
    assert "text/html" in login["responses"]["200"]["content"]
    assert login["x-cutover-side"] == "legacy"
    assert ADMIN_TOKEN not in str(document)
