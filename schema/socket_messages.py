"""What a well-formed websocket message looks like, for both protocols Chronicle serves.

``schema.sockets``' handlers ask these before strawberry's: a malformed message
closes the socket with 4400 (the legacy protocol included), and a subscribe past
the per-connection limit gets a ``RATE_LIMITED`` error.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from graphql import GraphQLError


def _optional(value: object, kind: type | tuple[type, ...]) -> bool:
    return value is None or isinstance(value, kind)


def init_payload_problem(payload: object) -> str | None:
    """Why a ``connection_init`` payload is malformed, or None."""
    if not _optional(payload, dict):
        return "Invalid connection init payload"
    assert payload is None or isinstance(payload, dict)
    params: Mapping[str, object] = payload or {}
    if not _optional(params.get("authToken"), str):
        return "authToken must be a string"
    if not _optional(params.get("Authorization"), str):
        return "Authorization must be a string"
    return None


def operation_payload_problem(payload: object) -> str | None:
    """Why a subscribe (``start`` in the legacy protocol) payload is malformed, or None."""
    if not isinstance(payload, dict):
        return "The operation payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "The operation payload needs a string query"
    if not _optional(payload.get("variables"), dict):
        return "variables must be an object"
    if not _optional(payload.get("operationName"), str):
        return "operationName must be a string"
    if not _optional(payload.get("extensions"), dict):
        return "extensions must be an object"
    return None


def _id_problem(message: Mapping[str, object]) -> str | None:
    operation_id = message.get("id")
    return None if isinstance(operation_id, str) and operation_id else "id must be a string"


def transport_message_problem(message: object) -> str | None:
    """Why a graphql-transport-ws message is malformed, or None (unknown types are
    left to strawberry, which closes with 4400 too)."""
    if not isinstance(message, dict):
        return "Messages must be JSON objects"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "The message type must be a string"
    if kind == "connection_init":
        return init_payload_problem(message.get("payload"))
    if kind in ("ping", "pong"):
        return None if _optional(message.get("payload"), dict) else "Invalid ping payload"
    if kind == "complete":
        return _id_problem(message)
    if kind == "subscribe":
        return _id_problem(message) or operation_payload_problem(message.get("payload"))
    return None


def legacy_message_problem(message: object) -> str | None:
    """The same for subscriptions-transport-ws (which ignores unknown types)."""
    if not isinstance(message, dict):
        return "Messages must be JSON objects"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "The message type must be a string"
    if kind == "connection_init":
        return init_payload_problem(message.get("payload"))
    if kind == "stop":
        return _id_problem(message)
    if kind == "start":
        return _id_problem(message) or operation_payload_problem(message.get("payload"))
    return None


def operation_limit_error(
    limit: int | None, acknowledged: bool, operation_id: str, running: Collection[str]
) -> dict[str, Any] | None:
    """The error a new operation past the per-connection limit gets (with a contract
    code), or None when it may start. Both protocols ask the same question."""
    if limit is None or not acknowledged or operation_id in running or len(running) < limit:
        return None
    error = GraphQLError(
        f"Subscription limit reached: at most {limit} operations per connection",
        extensions={"code": "RATE_LIMITED", "limit": limit},
    )
    return dict(error.formatted)
