"""Structured log lines for long-running services: `time level logger action=… key=value …`.

Library code logs with `extra={"action": "job.done", "job_id": 42, ...}`; entry points install
:class:`KeyValueFormatter` so those fields reach the line in a stable, grep-able order (time,
level, logger, action, then the other fields sorted), ready for a log shipper's logfmt parser.
"""

from __future__ import annotations

import logging
import time

from halo_supabase.logs import quiet_body_logging

__all__ = ["KeyValueFormatter", "configure_service_logging"]

# Attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _value(value: object) -> str:
    text = str(value)
    if not text or any(c in text for c in ' "='):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    """logfmt: `ts=… level=… logger=… action=… msg="…" key=value`."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {key: value for key, value in vars(record).items() if key not in _STANDARD}
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        parts = [
            f"ts={stamp}.{int(record.msecs):03d}Z",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
        ]
        if "action" in fields:
            parts.append(f"action={_value(fields.pop('action'))}")
        parts.append(f"msg={_value(record.getMessage())}")
        parts.extend(f"{key}={_value(fields[key])}" for key in sorted(fields))
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_service_logging(level: str) -> None:
    """Route every log record through KeyValueFormatter (entry points only)."""
    handler = logging.StreamHandler()
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Client libraries log each request and reconnect at INFO and bodies at DEBUG; ours say what
    # matters, without bodies or addresses.
    quiet_body_logging(level)
