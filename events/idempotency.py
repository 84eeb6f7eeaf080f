"""Idempotency keys as the store keeps them: the first result and the input's fingerprint.

The ``idempotency`` table keeps both in its ``result`` column, as one JSON
object ``{"result": ..., "fingerprint": ...}``, so fingerprints needed no new
column. A row older than fingerprints holds the bare result: read back, it has
fingerprint "" and matches no fingerprint the domain makes. Keys expire after
the store's TTL (``CHRONICLE_IDEMPOTENCY_TTL_SECONDS``, 24 h by default).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from events.model import IdempotentReplay
from events.serialization import dumps, loads

IDEMPOTENCY_TTL: Final = timedelta(hours=24)
"""The default: how long a key is remembered."""


def stored(result: dict[str, Any], fingerprint: str) -> str:
    """The ``result`` column's text for a key's first use."""
    return dumps({"result": result, "fingerprint": fingerprint})


def replay_of(text: str | bytes, position: int) -> IdempotentReplay:
    """The first use of a key, as a stored row describes it."""
    data = loads(text)
    if not isinstance(data, dict) or set(data) != {"result", "fingerprint"}:
        return IdempotentReplay(dict(data) if isinstance(data, dict) else {}, int(position))
    return IdempotentReplay(dict(data["result"]), int(position), str(data["fingerprint"]))
