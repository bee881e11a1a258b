"""Fixtures the observe tests share: the access logger put back as found."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from cutover.observe.access_log import LOGGER_NAME, stop_access_log


@pytest.fixture
def access_logger() -> Iterator[logging.Logger]:
    """`cutover.access` with no handler; its level, handlers and propagation restored after."""
    logger = logging.getLogger(LOGGER_NAME)
    saved = (logger.level, list(logger.handlers), logger.propagate, list(logger.filters))
    stop_access_log()
    for handler in saved[1]:
        logger.removeHandler(handler)
    try:
        yield logger
    finally:
        stop_access_log()
        level, handlers, propagate, filters = saved
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        for handler in handlers:
            logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        logger.filters[:] = filters
