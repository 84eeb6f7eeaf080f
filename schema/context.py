"""Who asks, and from which position: the RequestContext of every operation.

HTTP: one context per request, from ``Authorization: Bearer <token>`` and
``X-Min-Position``. Websockets: the connection carries the caller (``authToken``)
and ``minPosition`` of its ``connection_init`` payload, and every operation
on it runs with a context of its own, so DataLoader caches never outlive one
operation (docs/architecture.md, "One context per socket"). Every operation may also carry
``minPosition`` in its GraphQL ``extensions``. A token names its caller only
while it is valid, its member not forgotten, and their password unchanged
since it was issued (``schema.identities`` closes sockets whose caller stops
being named).

Before an operation runs, ``schema.limits.Operation`` waits (bounded by
``services.read_wait_timeout``) for the projections to reach the requested
position, or fails the operation with ``STALE_READ``.
"""

from __future__ import annotations

import contextvars
import dataclasses
import random
from collections.abc import Mapping
from typing import Any

from domain.errors import InvalidInput, Unauthenticated
from domain.ports import Actor
from domain.security import TokenClaims
from events.reading import DriverQuery
from resolvers.consistency import wait_for_position
from resolvers.context import RequestContext, Services
from resolvers.credentials import Credential

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "chronicle_request_id", default=None
)
"""Set by the ASGI layer for each request (and here for each websocket operation)."""


def new_request_id() -> str:
    """32 random hex digits: ids for logs and error reports, not secrets.

    From Python's own generator (seeded from the OS, and reseeded in a forked
    child): os.urandom's system call was 6% of a cached answer's server time.
    """
    return f"{random.getrandbits(128):032x}"


@dataclasses.dataclass
class ChronicleContext(RequestContext):
    """RequestContext plus what the transport handed over, for checking per operation."""

    requested_position: str | None = None
    """``X-Min-Position`` as sent; parsed per operation so a bad value is BAD_USER_INPUT."""
    connection_params: dict[str, Any] | None = None
    """The websocket ``connection_init`` payload (strawberry sets it on connect)."""
    on_socket: bool = False
    """Shared by every operation of one websocket: each operation gets its own copy."""
    token_claims: TokenClaims | None = None
    """What the websocket's token said when ``connection_init`` was accepted."""
    client: str | None = None
    """The client's address: anonymous callers' budgets and registrations count by it."""
    operation_type: Any = None
    """strawberry's OperationType, once known: only queries' answers are cached."""


MAX_LOG_POSITION = 2**63 - 1
"""Positions are BIGINT in every backend: no log ever reaches past this one."""


def parse_position(value: object, field: str) -> int | None:
    """A position a client asks to read at: digits (or a JSON integer) up to 2^63-1."""
    if value is None or value == "":
        return None
    beyond = InvalidInput(field, f"{field} must be a position of the log: at most "
                                 f"{MAX_LOG_POSITION}")
    if type(value) is int:
        if not 0 <= value <= MAX_LOG_POSITION:
            raise beyond
        return value
    text = value.strip() if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput(field, f"{field} must be a position: a string of digits")
    # Count the digits before converting: Python refuses to convert very long ones.
    if len(text.lstrip("0")) > len(str(MAX_LOG_POSITION)) or int(text) > MAX_LOG_POSITION:
        raise beyond
    return int(text)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def actor_for(services: Services, token: str | None) -> Actor | None:
    """The caller a token names, with the role the read model holds for them.

    An invalid or expired token is treated as no token: operations that need
    a caller then fail with UNAUTHENTICATED in the handlers and visibility
    rules, which are the single place deciding what anonymous callers may do.
    """
    identified = await identify(services, token) if token else None
    return None if identified is None else identified[0]


async def identify(services: Services, token: str) -> tuple[Actor, TokenClaims] | None:
    """The caller ``token`` names and what it says, or None if it names nobody now:
    forged, damaged or expired, its user forgotten, or issued before their
    latest password change.

    The member's row comes from ``services.credentials`` (memory, exact while
    the users projection's notices are heard: ``resolvers.credentials``), else
    from the users table."""
    try:
        claims = services.tokens.claims(token)
    except Unauthenticated:
        return None
    memory = services.credentials
    known, found = memory.known(claims.user_id) if memory is not None else (False, None)
    if not known:
        ticket = memory.ticket() if memory is not None else None
        found = await read_credential(services, claims.user_id)
        if memory is not None:
            memory.keep(ticket, claims.user_id, found)
    if found is not None and (
        found.forgotten or (found.version is not None and claims.credentials < found.version)
    ):
        return None  # forgotten, or the password changed since the token was issued
    # A user registered a moment ago may not be projected yet: a member.
    actor = Actor(user_id=claims.user_id, role=found.role if found is not None else "MEMBER")
    return actor, claims


async def read_credential(services: Services, user_id: str) -> Credential | None:
    """The member's role, forgotten flag and credential version from the users table."""
    # One driver-level statement (see Services.reader): this runs for every
    # authenticated request that memory does not answer, before any field resolves.
    users = services.runner.tables().users
    # A generation of the older shape (until its rebuild) has no credentials column.
    credentials = ", credentials" if "credentials" in users.c else ""
    reader = services.driver_reader()
    query = DriverQuery(reader.dialect)
    table = services.engine.dialect.identifier_preparer.format_table(users)
    sql = f"SELECT role, forgotten{credentials} FROM {table} WHERE id = {query.param(user_id)}"
    rows = await reader.fetch_small(sql, query.params, (users.name,))
    if not rows:
        return None
    row = rows[0]
    return Credential(str(row[0]), bool(row[1]), int(row[2]) if credentials else None)


async def http_context(services: Services, headers: Mapping[str, str]) -> ChronicleContext:
    return ChronicleContext(
        services=services,
        actor=await actor_for(services, bearer_token(headers.get("authorization"))),
        request_id=current_request_id.get() or new_request_id(),
        requested_position=headers.get("x-min-position"),
    )


def socket_context(services: Services) -> ChronicleContext:
    """The connection's context, until ``connection_init`` names the caller."""
    return ChronicleContext(
        services=services,
        actor=None,
        request_id=current_request_id.get() or new_request_id(),
        on_socket=True,
    )


def connection_token(params: Mapping[str, Any]) -> str | None:
    """The token a (well-formed) ``connection_init`` payload carries, if any."""
    token = params.get("authToken") or bearer_token(params.get("Authorization"))
    return token if isinstance(token, str) else None


async def accept_connection(context: ChronicleContext) -> None:
    """On ``connection_init``: take the caller and minimum position from its payload.

    No token is an anonymous connection; a token that names nobody (forged,
    expired, its user forgotten, its password changed since) is refused with
    Unauthenticated, so the socket closes and the client can refresh it.
    """
    params = context.connection_params or {}
    token = connection_token(params)
    if token:
        identified = await identify(context.services, token)
        if identified is None:
            raise Unauthenticated("the token is invalid or expired")
        context.actor, context.token_claims = identified
    raw = params.get("minPosition")
    context.requested_position = None if raw is None else str(raw)


def operation_context(shared: Any) -> Any:
    """The context one operation runs with: a websocket's operations each get a copy
    with fresh loaders and a request id of their own; HTTP requests keep theirs."""
    if isinstance(shared, ChronicleContext) and shared.on_socket:
        request_id = new_request_id()
        current_request_id.set(request_id)
        return dataclasses.replace(shared, request_id=request_id, on_socket=False)
    return shared


async def wait_for_requested_position(
    context: Any, operation_extensions: Mapping[str, Any] | None
) -> None:
    """Wait (bounded) until the projections reach the position the operation asks for:
    a mutation's own, ``X-Min-Position`` / ``minPosition``, or its ``extensions``.
    Raises StaleRead past the wait, InvalidInput for a position that is not one."""
    if not isinstance(context, RequestContext):
        return
    wanted = [context.min_position]
    if isinstance(context, ChronicleContext):
        wanted.append(parse_position(context.requested_position, "minPosition"))
    wanted.append(parse_position((operation_extensions or {}).get("minPosition"), "minPosition"))
    position = max((p for p in wanted if p is not None), default=None)
    if position is not None:
        context.min_position = position
        await wait_for_position(context.services, position)
