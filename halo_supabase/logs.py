"""Logging for entry points (`halo …`); library code never configures logging.

Logs must never carry message bodies or customer addresses. HTTP, Realtime and AI client
libraries log whole request/response bodies and frames at DEBUG and request URLs (REST filters
can hold addresses) at INFO, so their loggers are pinned at WARNING or the configured level,
whichever is higher, whatever HALO_LOG_LEVEL or a parent logger says.
"""

from __future__ import annotations

import logging

__all__ = ["BODY_LOGGING_LIBRARIES", "configure_logging", "quiet_body_logging"]

BODY_LOGGING_LIBRARIES = (
    "openai",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "hpack",
    "realtime",
    "websockets",
)


def quiet_body_logging(level: int | str = logging.WARNING) -> None:
    """Pin the libraries that log bodies, frames or URLs at WARNING (or `level`, if higher).

    The level is set on each library's own logger rather than inherited, so lowering the root
    logger later, as `caplog.at_level` or a DEBUG configuration does, cannot let them through.
    """
    floor = max(logging.WARNING, logging.getLevelName(level) if isinstance(level, str) else level)
    for name in BODY_LOGGING_LIBRARIES:
        logging.getLogger(name).setLevel(floor)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    quiet_body_logging(level)
