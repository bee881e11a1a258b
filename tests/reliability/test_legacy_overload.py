"""Legacy overload is shed at the gateway: a full queue or a long wait answers 503 at once."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from werkzeug.exceptions import ServiceUnavailable

from tests.servers import Server, file_log_config, serve_uvicorn

pytestmark = pytest.mark.slow

THREADS = 4
QUEUE_SIZE = 2
QUEUE_TIMEOUT = 0.5
SLEEP = 1.5
WAIT = 15.0


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    return tmp_path / "server.log"


@pytest.fixture(params=["in-process", "out-of-process"])
def overloaded(request: pytest.FixtureRequest, log_file: Path) -> Iterator[Server]:
    config_path = file_log_config(log_file)
    env = {
        "STUB_PROCESSES": "1" if request.param == "out-of-process" else "0",
        "STUB_THREADS": str(THREADS),
        "STUB_QUEUE_SIZE": str(QUEUE_SIZE),
        "STUB_QUEUE_TIMEOUT": str(QUEUE_TIMEOUT),
    }
    with serve_uvicorn(
        "tests.cutover.stub_gateways:overload_gateway",
        "--factory",
        "--log-config",
        str(config_path),
        env=env,
    ) as server:
        yield server


def timed_get(client: httpx.Client, path: str) -> tuple[httpx.Response, float, float]:
    """GET `path`: the response, when it was sent and when it came back."""
    sent = time.monotonic()
    response = client.get(path)
    return response, sent, time.monotonic()


def native_latencies(client: httpx.Client, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        began = time.monotonic()
        assert client.get("/native-ping").status_code == 200
        latencies.append(time.monotonic() - began)
    return latencies


def test_legacy_overload_is_shed_fast_and_the_native_side_keeps_its_latency(
    overloaded: Server, log_file: Path
) -> None:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    with (
        httpx.Client(base_url=overloaded.url, timeout=WAIT) as client,
        httpx.Client(base_url=overloaded.url, timeout=WAIT, limits=limits) as crowd,
        ThreadPoolExecutor(16) as pool,
    ):
        baseline = statistics.median(native_latencies(client, 30))
        assert client.get("/pings").json() == {"legacy": 0}

        sleepers = [
            pool.submit(timed_get, crowd, f"/sleep?seconds={SLEEP}") for _ in range(THREADS)
        ]
        time.sleep(0.3)  # every legacy thread is now asleep
        queued: list[Future[tuple[httpx.Response, float, float]]] = [
            pool.submit(timed_get, crowd, "/ping") for _ in range(QUEUE_SIZE)
        ]
        time.sleep(0.15)  # the queue is now full
        shed, shed_sent, shed_back = timed_get(client, "/ping")
        during = statistics.median(native_latencies(client, 30))
        expired = [future.result() for future in queued]
        slept = [future.result() for future in sleepers]

        first_sleeper_back = min(back for _, _, back in slept)
        for response, _sent, back in [(shed, shed_sent, shed_back), *expired]:
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            assert response.content == ServiceUnavailable().get_body().encode()
            assert back < first_sleeper_back  # answered before any thread came free
        assert shed_back - shed_sent < QUEUE_TIMEOUT  # shed at once, not after waiting
        for _, sent, back in expired:
            assert back - sent >= QUEUE_TIMEOUT * 0.9  # waited its time in the queue first
        assert [response.status_code for response, _, _ in slept] == [200] * THREADS
        # Neither the shed nor the expired pings ever ran.
        assert client.get("/pings").json() == {"legacy": 0}
        assert client.get("/ping").json() == {"pong": True}

    waits = ", ".join(f"{back - sent:.3f} s" for _, sent, back in expired)
    print(f"shed answered in {shed_back - shed_sent:.3f} s, expired in {waits}")
    print(f"native median {baseline * 1000:.2f} ms before, {during * 1000:.2f} ms during overload")
    assert during < baseline * 5 + 0.02
    warnings = [line for line in log_file.read_text().splitlines() if "overloaded" in line]
    # Three 503s within a second make one warning, with the counts so far.
    assert 1 <= len(warnings) <= 2, warnings
    assert "1 shed (queue of 2 full), 0 expired" in warnings[0]
