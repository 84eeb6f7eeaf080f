"""Every error leaves with one of the contract's ``extensions.code`` values.

Domain refusals carry their code (``domain.errors``); a read model that did
not catch up is ``STALE_READ`` (with ``recorded: true`` when the request's own
write was committed, so the client knows not to repeat it); a request the
GraphQL engine rejects before running it (syntax, validation, variable
coercion) is ``BAD_USER_INPUT``; and
anything else is a bug, masked as ``INTERNAL`` so that no stack trace, SQL or
path reaches the client, and logged with the request id so an operator can
find it from what the client saw.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError
from strawberry.schema.exceptions import InvalidOperationTypeError

from domain.errors import Conflict, DomainError, InvalidInput, RateLimited
from resolvers.consistency import StaleRead

log = logging.getLogger("chronicle.errors")

CODES = frozenset(
    {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "BAD_USER_INPUT",
     "RATE_LIMITED", "STALE_READ", "INTERNAL"}
)
INTERNAL_MESSAGE = "Internal server error"

# graphql-core names the offending input in its messages; the client gets it as `field`.
_FIELD_PATTERNS = (
    re.compile(r"invalid value at \.(?:[\w\[\]]+\.)*(\w+)"),  # ... at .input.title / .tags[0]
    re.compile(r"required field '(\w+)'"),
    re.compile(r"unknown field '(\w+)'"),
    re.compile(r"Field '(?:\w+\.)?(\w+)' of required type"),
    re.compile(r"Argument '[\w.]*\((\w+):\)'"),  # Argument 'Query.post(id:)' ...
    re.compile(r"Argument '(\w+)'"),
    re.compile(r"Variable '\$(\w+)'"),
)


def camel(name: str) -> str:
    """``display_name`` -> ``displayName``: the domain speaks snake_case, the API camelCase."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def input_field(message: str) -> str | None:
    for pattern in _FIELD_PATTERNS:
        if found := pattern.search(message):
            return found.group(1)
    return None


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    # A fresh error without `original_error`: nothing of the cause travels further.
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions,
        path=error.path, extensions=extensions,
    )


def _domain(error: GraphQLError, cause: DomainError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": cause.code}
    if isinstance(cause, InvalidInput):
        extensions["field"] = camel(cause.field)
    if isinstance(cause, RateLimited):
        extensions["retryAfter"] = max(1, int(cause.retry_after))
    if isinstance(cause, StaleRead):
        extensions["position"] = str(cause.position)
        if cause.head is not None:
            extensions["head"] = str(cause.head)
        if cause.recorded:
            extensions["recorded"] = True
    if isinstance(cause, Conflict):
        extensions["expectedVersion"] = cause.expected
        extensions["actualVersion"] = cause.actual
    return _with(error, cause.message, extensions)


def classify(error: GraphQLError, request_id: str | None = None) -> GraphQLError:
    """The error as the client may see it."""
    cause = error.original_error
    if isinstance(cause, DomainError) and cause.code in CODES - {"INTERNAL"}:
        return _domain(error, cause)
    if cause is None and (error.extensions or {}).get("code") in CODES:
        return error
    if isinstance(cause, InvalidOperationTypeError):
        # Only the legacy websocket protocol gets here (HTTP answers 400 before):
        # strawberry runs subscriptions alone over it. The client's choice, not a bug.
        kind = cause.operation_type.value
        message = f"a {kind} cannot run over the legacy graphql-ws protocol: use HTTP"
        return _with(error, message, {"code": "BAD_USER_INPUT"})
    rejected_before_running = error.path is None and (cause is None or error.nodes)
    if rejected_before_running:
        extensions: dict[str, Any] = {"code": "BAD_USER_INPUT"}
        if field := input_field(error.message):
            extensions["field"] = field
        return _with(error, error.message, extensions)
    log.error(
        "internal error masked: %s", error.message,
        exc_info=cause if isinstance(cause, BaseException) else None,
        extra={"request_id": request_id, "graphql_path": error.path},
    )
    return _with(error, INTERNAL_MESSAGE, {"code": "INTERNAL"})


def rewrite_errors(
    result: object, request_id: str | None, committed: dict[str, int] | None = None
) -> None:
    """Every error of a result (query, mutation, or one subscription event), classified.

    ``committed``: the mutation fields whose write committed, by response key, with
    its position. An error inside such a field's answer (a nested field that failed
    after the commit) carries ``recorded: true`` and ``position`` too, so the client
    knows not to repeat the write, as ``STALE_READ`` after a commit does.
    """
    errors = getattr(result, "errors", None)
    if errors:
        classified = [classify(e, request_id) for e in errors]
        if committed:
            classified = [_recorded(e, committed) for e in classified]
        result.errors = classified  # type: ignore[attr-defined]


def _recorded(error: GraphQLError, committed: dict[str, int]) -> GraphQLError:
    extensions = error.extensions or {}
    if not error.path or extensions.get("recorded"):
        return error
    position = committed.get(str(error.path[0]))
    if position is None:
        return error
    return _with(error, error.message,
                 {**extensions, "recorded": True, "position": str(position)})
