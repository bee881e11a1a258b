"""Streaming, memory bounds, body limits and isolation of the bridge, on a real uvicorn."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.cutover.wsgi.test_differential import BRIDGE_MODES, raw_exchange, status_and_body
from tests.servers import Server, rss_kib, serve_uvicorn

MIB = 1024 * 1024
BIG = 100 * MIB
RSS_GROWTH_LIMIT_KIB = 60 * 1024
WAIT = 15.0


@pytest.fixture(scope="module", params=list(BRIDGE_MODES))
def mode(request: pytest.FixtureRequest) -> str:
    """The legacy mode each test runs in: in the gateway's process, or out of it."""
    return str(request.param)


@pytest.fixture(scope="module")
def target(mode: str) -> str:
    """The uvicorn --factory target serving the Flask stub in `mode`."""
    return f"tests.cutover.stub_apps:{BRIDGE_MODES[mode]}_flask"


@pytest.fixture(scope="module")
def bridged(target: str) -> Iterator[Server]:
    with serve_uvicorn(target, "--factory", env={"STUB_MAX_BODY": "none"}) as server:
        yield server


@pytest.fixture(scope="module")
def one_thread(target: str) -> Iterator[Server]:
    with serve_uvicorn(target, "--factory", env={"STUB_THREADS": "1"}) as server:
        yield server


def wait_for(condition: threading.Event | Path, timeout: float = WAIT) -> bool:
    """Poll until the file exists or the event is set, up to `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition.is_set() if isinstance(condition, threading.Event) else condition.exists():
            return True
        time.sleep(0.02)
    return False


def test_streamed_chunk_arrives_while_the_generator_is_blocked(
    bridged: Server, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    with (
        httpx.Client(base_url=bridged.url, timeout=WAIT) as client,
        client.stream("GET", "/gated-stream", params={"gate": str(gate)}) as response,
    ):
        chunks = response.iter_raw()
        first = next(chunks)
        assert not gate.exists()
        assert first == b"first chunk\n"
        gate.touch()
        assert b"".join(chunks) == b"second chunk\n"


def test_client_disconnect_closes_the_iterator_and_frees_the_thread(
    one_thread: Server, tmp_path: Path
) -> None:
    marker = tmp_path / "closed"
    with httpx.Client(base_url=one_thread.url, timeout=WAIT) as client:
        with client.stream("GET", "/endless-stream", params={"marker": str(marker)}) as response:
            received = 0
            for chunk in response.iter_raw():
                received += len(chunk)
                if received > 64 * 1024:
                    break
        assert wait_for(marker), "the WSGI iterator was not closed after the client left"
        assert marker.read_text() == "closed"
        # The bridge's only thread is free again.
        assert client.get("/json").json() == {"ok": True}


def test_a_failure_after_streaming_began_never_looks_complete(mode: str) -> None:
    with (
        serve_uvicorn(f"tests.cutover.stub_apps:{BRIDGE_MODES[mode]}_plain", "--factory") as server,
        httpx.Client(base_url=server.url, timeout=WAIT) as client,
    ):
        with (
            pytest.raises(httpx.RemoteProtocolError),
            client.stream("GET", "/fail-midway") as response,
        ):
            assert response.status_code == 200
            response.read()
        assert client.get("/declared-length").content == b"hello"


def sample_rss(pid: int, stop: threading.Event, peaks: list[int]) -> None:
    """Record the highest RSS seen until `stop` is set."""
    while not stop.is_set():
        peaks.append(rss_kib(pid))
        time.sleep(0.05)


@pytest.mark.slow
def test_100mb_download_keeps_memory_bounded(bridged: Server) -> None:
    before = rss_kib(bridged.pid)
    stop, peaks = threading.Event(), [before]
    sampler = threading.Thread(target=sample_rss, args=(bridged.pid, stop, peaks))
    sampler.start()
    digest, size = hashlib.sha256(), 0
    try:
        with (
            httpx.Client(base_url=bridged.url, timeout=60) as client,
            client.stream("GET", "/download", params={"size": BIG}) as response,
        ):
            for chunk in response.iter_raw():
                if size == 0:
                    # A reader that falls behind: the app must wait instead of buffering.
                    time.sleep(1.0)
                digest.update(chunk)
                size += len(chunk)
    finally:
        stop.set()
        sampler.join()
    growth = max(peaks) - before
    print(f"download 100 MiB: RSS before {before} KiB, peak {max(peaks)} KiB, growth {growth} KiB")
    assert size == BIG
    assert digest.hexdigest() == hashlib.sha256(b"d" * BIG).hexdigest()
    assert growth < RSS_GROWTH_LIMIT_KIB


@pytest.mark.slow
def test_100mb_chunked_upload_keeps_memory_bounded(bridged: Server) -> None:
    block = bytes(range(256)) * 256
    before = rss_kib(bridged.pid)
    stop, peaks = threading.Event(), [before]
    sampler = threading.Thread(target=sample_rss, args=(bridged.pid, stop, peaks))
    sampler.start()

    def body() -> Iterator[bytes]:
        for _ in range(BIG // len(block)):
            yield block

    try:
        with httpx.Client(base_url=bridged.url, timeout=60) as client:
            response = client.post("/sink", content=body())
    finally:
        stop.set()
        sampler.join()
    growth = max(peaks) - before
    print(f"upload 100 MiB: RSS before {before} KiB, peak {max(peaks)} KiB, growth {growth} KiB")
    expected = hashlib.sha256()
    for chunk in body():
        expected.update(chunk)
    assert response.json() == {"size": BIG, "sha256": expected.hexdigest()}
    assert growth < RSS_GROWTH_LIMIT_KIB


def test_declared_length_above_the_limit_is_refused_before_the_body_is_sent(target: str) -> None:
    with serve_uvicorn(target, "--factory", env={"STUB_MAX_BODY": "1024"}) as server:
        request = (
            b"POST /sink HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: 1000000000\r\n\r\n"
        )
        # No body byte is ever written: the answer has to come from the headers alone.
        [raw] = raw_exchange(server.port, request)
        status, headers, _ = status_and_body(raw)
        assert status.split()[1] == "413"
        assert headers["connection"] == "close"
        small = httpx.post(server.url + "/sink", content=b"x" * 1024, timeout=WAIT)
        assert small.json()["size"] == 1024


def test_a_failing_handler_answers_500_and_the_bridge_keeps_serving(bridged: Server) -> None:
    with httpx.Client(base_url=bridged.url, timeout=WAIT) as client:
        for _ in range(3):
            assert client.get("/boom").status_code == 500
            assert client.get("/json").json() == {"ok": True}


def test_a_stalled_handler_holds_one_thread_only(bridged: Server) -> None:
    with ThreadPoolExecutor(1) as executor, httpx.Client(base_url=bridged.url) as client:
        stalled = executor.submit(httpx.get, bridged.url + "/sleep?seconds=3", timeout=WAIT)
        time.sleep(0.2)
        answers = [client.get("/json", timeout=WAIT).json() for _ in range(20)]
        assert not stalled.done()
        assert answers == [{"ok": True}] * 20
        assert stalled.result().status_code == 200


def test_thirty_slow_requests_run_concurrently(bridged: Server) -> None:
    limits = httpx.Limits(max_connections=30)
    with httpx.Client(base_url=bridged.url, limits=limits, timeout=WAIT) as client:

        def slow(_: int) -> dict[str, float]:
            times: dict[str, float] = client.get("/sleep?seconds=1").json()
            return times

        began = time.monotonic()
        with ThreadPoolExecutor(30) as executor:
            results = list(executor.map(slow, range(30)))
        elapsed = time.monotonic() - began
    print(f"30 concurrent 1 s requests: {elapsed:.2f} s")
    # Every one started before any finished: none waited for a thread.
    assert max(r["start"] for r in results) < min(r["end"] for r in results)


def test_uvicorn_proxy_headers_would_rewrite_the_client(target: str) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    with (
        serve_uvicorn(target, "--factory") as plain,
        serve_uvicorn(target, "--factory", "--proxy-headers") as rewriting,
    ):
        untouched = httpx.get(plain.url + "/environ", headers=forwarded).json()["environ"]
        rewritten = httpx.get(rewriting.url + "/environ", headers=forwarded).json()["environ"]
    assert (untouched["REMOTE_ADDR"], untouched["wsgi.url_scheme"]) == ("127.0.0.1", "http")
    assert untouched["HTTP_X_FORWARDED_FOR"] == "203.0.113.9"
    assert (rewritten["REMOTE_ADDR"], rewritten["wsgi.url_scheme"]) == ("203.0.113.9", "https")


def test_trust_proxy_headers_takes_the_nearest_proxy_hop(target: str) -> None:
    forwarded = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9", "X-Forwarded-Proto": "https"}
    with serve_uvicorn(target, "--factory", env={"STUB_TRUST_PROXY": "1"}) as server:
        environ = httpx.get(server.url + "/environ", headers=forwarded).json()["environ"]
    assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]) == ("203.0.113.9", "https")
    assert environ["HTTP_X_FORWARDED_FOR"] == "198.51.100.1, 203.0.113.9"
