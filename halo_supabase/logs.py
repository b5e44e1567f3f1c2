"""Logging for entry points (`halo …`); library code never configures logging.

Logs must never carry message bodies or customer addresses. HTTP and AI client libraries log
whole request and response bodies at DEBUG, so their loggers never go below INFO, whatever
HALO_LOG_LEVEL says.
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
    "websockets",
)


def quiet_body_logging() -> None:
    """Keep the libraries that log request/response bodies at DEBUG to INFO or above."""
    for name in BODY_LOGGING_LIBRARIES:
        library = logging.getLogger(name)
        # Their own level, not the effective one: a root lowered to DEBUG later must not reach them.
        if library.level == logging.NOTSET or library.level < logging.INFO:
            library.setLevel(logging.INFO)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    quiet_body_logging()
