"""The publisher: collectors run on the loop, their writes in a thread, failures logged once."""

from __future__ import annotations

import logging
import threading

import pytest

from cutover.publish import Publisher

pytestmark = pytest.mark.anyio


async def test_a_write_runs_off_the_event_loop_and_stop_flushes_once_more() -> None:
    loop_thread = threading.get_ident()
    collected: list[int] = []
    written: list[tuple[int, int]] = []

    def collect() -> object:
        collected.append(threading.get_ident())
        batch = len(collected)
        return lambda: written.append((batch, threading.get_ident()))

    publisher = Publisher(interval=3600)
    publisher.add("numbers", collect)  # type: ignore[arg-type]
    publisher.start()
    assert publisher.running
    await publisher.stop()
    assert not publisher.running
    assert collected == [loop_thread]
    assert [batch for batch, _ in written] == [1]
    assert written[0][1] != loop_thread


async def test_a_failing_write_is_logged_once_per_outage(caplog: pytest.LogCaptureFixture) -> None:
    broken = True

    def write() -> None:
        if broken:
            raise OSError("database down")

    publisher = Publisher()
    publisher.add("traffic", lambda: write)
    with caplog.at_level(logging.INFO, logger="cutover"):
        await publisher.flush()
        await publisher.flush()
        broken = False
        await publisher.flush()
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "cutover: could not publish traffic (OSError: database down)",
        "cutover: publishing traffic works again",
    ]


async def test_nothing_runs_without_collectors() -> None:
    publisher = Publisher()
    publisher.start()
    assert not publisher.running
    await publisher.stop()
