"""A subscription result's ``next`` frame, serialized once for every socket that shares it.

Subscribers of one process that share a subscription (the same document,
variables and visibility class) receive the very same result object per
event (``schema.sharing``). Strawberry's protocol handler then builds each
socket's ``next`` message around it, with the socket's own operation id and
the operation's own ``extensions`` (its cost), and asks the view to encode it.
:class:`NextFrames` serializes the shared ``data`` once and splices it into
every socket's frame; only the id and the small ``extensions`` are encoded per
socket. The bytes are what ``orjson.dumps`` of the whole message gives.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from schema.sharing import ByIdentity


class NextFrames:
    def __init__(self, remembered: int = 256) -> None:
        self._json: ByIdentity[object, bytes] = ByIdentity(remembered)
        """Each shared result's data, serialized."""

    def encode(self, message: Mapping[str, object]) -> str | None:
        """The frame of a ``next`` message whose data was seen before, else None."""
        if message.get("type") != "next" or len(message) != 3:
            return None
        payload, operation_id = message.get("payload"), message.get("id")
        if not isinstance(payload, dict) or not isinstance(operation_id, str):
            return None
        data = payload.get("data")
        if data is None or not payload.keys() <= {"data", "extensions"}:
            return None
        # A copy of the right size: orjson's output holds 4 KiB however short.
        shared = self._json.get(data, lambda d: bytes(memoryview(orjson.dumps(d))))
        parts = [b'{"id":', orjson.dumps(operation_id), b',"type":"next","payload":{"data":',
                 shared]
        extensions = payload.get("extensions")
        if extensions is not None:
            parts += [b',"extensions":', orjson.dumps(extensions)]
        parts.append(b"}}")
        return b"".join(parts).decode()
