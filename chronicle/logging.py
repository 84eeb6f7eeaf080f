"""Structured logs: one JSON object per line on stderr, each with the request id.

The request id comes from a context variable that the ASGI layer sets for
every request (and the schema for every websocket operation), so any line
logged while serving it — by Chronicle, SQLAlchemy or uvicorn — can be joined
with the ``X-Request-Id`` the client received.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson

from schema.context import current_request_id

# Attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "request_id",
}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exc"] = "".join(traceback.format_exception(*record.exc_info))
        return orjson.dumps(line, default=str).decode()


def configure(level: int | str = logging.INFO) -> None:
    """Route every logger (uvicorn's included) through one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Strawberry logs every GraphQL error, refusals included, with a stack:
    # schema.errors logs the unexpected ones itself, with the request id.
    # (a level, not `disabled`: uvicorn's dictConfig re-enables existing loggers)
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL + 1)


def uvicorn_log_config() -> dict[str, Any]:
    """A logging dictConfig for uvicorn that leaves the handlers to :func:`configure`."""
    return {"version": 1, "disable_existing_loggers": False}
