"""The websocket protocols' edges, and how long a socket speaks for its member.

Both protocols Chronicle serves (docs/architecture.md, Subscriptions) are held to the same rules:
graphql-transport-ws (what Apollo Client's GraphQLWsLink speaks) and the
legacy subscriptions-transport-ws (subprotocol ``graphql-ws``).

- A malformed message (not a JSON object, a subscribe whose payload is not
  an object with a string ``query``, an unknown type, ...) closes with 4400.
- ``connection_init`` must arrive within ``ws_init_timeout_seconds``: 4408.
  A payload that is not an object, or whose ``authToken`` is not a string: 4400.
- A token that names nobody (forged, expired, its member forgotten, issued
  before their latest password change) closes with 4403; no token at all is
  an anonymous connection (``schema.context.accept_connection`` decides).
- Once accepted, the socket speaks for its member only while the token would
  still be accepted: it closes with 4403 when the token expires, when the
  member is forgotten, and when their password changes, so that clients
  refresh their credentials (:class:`Identities`).
- At most ``max_subscriptions_per_connection`` operations run at once; past
  it a subscribe fails with ``RATE_LIMITED``.

Strawberry's protocol handlers are extended through public seams only: the
view's ``graphql_transport_ws_handler_class`` / ``graphql_ws_handler_class``,
the handlers' public methods and attributes, and the view's ``on_ws_connect``
raising ``ConnectionRejectionError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, cast

from graphql import GraphQLError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.unset import UnsetType

from domain import user
from domain.repository import load
from domain.security import TokenClaims
from events.bus import EVENTS_CHANNEL, Bus, BusError
from events.store import SqlEventStore
from schema.context import ChronicleContext

BAD_REQUEST: Final = 4400
FORBIDDEN: Final = 4403
INIT_TIMEOUT: Final = 4408
TOO_MANY_INITS: Final = 4429

RETRY_DELAY: Final = 1.0
"""Seconds before the identity follower retries after a failed read."""
ENDS_IDENTITY: Final = ("PasswordChanged", "UserForgotten")
"""Events after which a member's open sockets may no longer speak for them."""

log = logging.getLogger(__name__)


# --- What a well-formed message looks like -------------------------------------


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


# --- Who a socket speaks for, and until when -----------------------------------


Close = Callable[[], Awaitable[None]]


@dataclass(eq=False, slots=True)
class Held:
    """One open socket speaking for a member."""

    claims: TokenClaims
    close: Close
    expiry: asyncio.TimerHandle | None = None
    ended: bool = False
    closing: asyncio.Task[None] | None = field(default=None, repr=False)


class Identities:
    """Every open socket by member, closed with 4403 once its identity ends.

    One follower per process reads the log for the events that end an identity
    (:data:`ENDS_IDENTITY`) and checks the member's sockets against the write
    model. Bus notices only wake it; it reads the store from where it stopped,
    so a lost notice delays a close but never loses it (the bus raises when
    notices were lost, and the follower then re-reads from its position).
    """

    def __init__(self, store: SqlEventStore, bus: Bus | None) -> None:
        self._store = store
        self._bus = bus
        self._sockets: dict[str, set[Held]] = {}
        self._follower: asyncio.Task[None] | None = None
        self._started = asyncio.Event()

    async def start(self) -> None:
        if self._bus is None:
            return
        self._follower = asyncio.create_task(self._follow(), name="chronicle-socket-identities")
        follower = self._follower
        waiting = asyncio.create_task(self._started.wait())
        await asyncio.wait({follower, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if follower.done():
            follower.result()  # a follower that could not start fails the start-up

    async def stop(self) -> None:
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        for held in [h for sockets in self._sockets.values() for h in sockets]:
            self.release(held)

    async def hold(self, claims: TokenClaims, close: Close) -> Held:
        """Watch a socket that a token identified; ``close`` closes it with 4403."""
        held = Held(claims, close)
        self._sockets.setdefault(claims.user_id, set()).add(held)
        delay = max(0.0, claims.expires_at - time.time())
        held.expiry = asyncio.get_running_loop().call_later(delay, self._end, held)
        # Registered first, then checked against the log: a change committed
        # before the registration is seen here, any later one by the follower.
        await self._check(claims.user_id)
        return held

    def release(self, held: Held) -> None:
        """The socket is gone: stop watching it."""
        if held.expiry is not None:
            held.expiry.cancel()
        sockets = self._sockets.get(held.claims.user_id)
        if sockets is not None:
            sockets.discard(held)
            if not sockets:
                del self._sockets[held.claims.user_id]

    def _end(self, held: Held) -> None:
        if held.ended:
            return
        held.ended = True
        self.release(held)
        held.closing = asyncio.create_task(self._close(held))

    @staticmethod
    async def _close(held: Held) -> None:
        try:
            await held.close()
        except Exception:  # the socket went away on its own meanwhile
            log.debug("closing a socket whose identity ended failed", exc_info=True)

    async def _check(self, user_id: str) -> None:
        """Close the member's sockets that their current state no longer accepts."""
        if not self._sockets.get(user_id):
            return
        member = (await load(self._store, user.AGGREGATE, user_id)).state
        for held in list(self._sockets.get(user_id, ())):
            if member.forgotten or held.claims.credentials < member.credentials:
                self._end(held)

    async def _follow(self) -> None:
        bus, store = self._bus, self._store
        assert bus is not None
        checked = await store.head_position()
        while True:
            try:
                async with bus.subscribe(EVENTS_CHANNEL) as notices:
                    self._started.set()
                    checked = await self._catch_up(checked)
                    async for notice in notices:
                        kinds = notice.get("types")
                        if isinstance(kinds, list) and not set(kinds) & set(ENDS_IDENTITY):
                            continue
                        checked = await self._catch_up(checked)
                return  # the bus shut down cleanly: the server is stopping
            except BusError:
                continue  # notices were lost: subscribe again, then re-read the store
            except Exception:
                # A failed read must not end the watch for good: retry from `checked`.
                log.exception("following the events that end identities failed; retrying")
                await asyncio.sleep(RETRY_DELAY)

    async def _catch_up(self, after: int) -> int:
        """Check the members named by identity-ending events after ``after``; the new position."""
        store = self._store
        head = await store.head_position()
        while after < head:
            batch = await store.read_all(
                after=after, limit=500, types=ENDS_IDENTITY, to_position=head
            )
            for user_id in dict.fromkeys(str(e.data.get("user_id")) for e in batch):
                try:
                    await self._check(user_id)
                except Exception:
                    log.exception("checking the sockets of member %s failed", user_id)
            if len(batch) < 500:
                break
            after = batch[-1].position
        return max(after, head)


# --- The two protocols' handlers -------------------------------------------------


class _SocketIdentity:
    """What both handlers add: the identity watch, ended with the socket."""

    held: Held | None = None

    async def _hold_identity(self, view: Any, context: ChronicleContext, websocket: Any) -> None:
        identities: Identities | None = getattr(view, "identities", None)
        if context.token_claims is None or identities is None:
            return

        async def close() -> None:
            await websocket.close(code=FORBIDDEN, reason="Forbidden")

        self.held = await identities.hold(context.token_claims, close)

    def _release_identity(self, view: Any) -> None:
        identities: Identities | None = getattr(view, "identities", None)
        if self.held is not None and identities is not None:
            identities.release(self.held)


class TransportWSHandler(
    _SocketIdentity, BaseGraphQLTransportWSHandler[ChronicleContext, None]
):
    """graphql-transport-ws, with Chronicle's edges (see the module's docstring)."""

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            self._release_identity(self.view)

    async def handle_message(self, message: Any) -> None:
        problem = transport_message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        # The protocol allows a null payload; strawberry wants an object.
        payload = message.get("payload") or {}
        await super().handle_connection_init({"type": "connection_init", "payload": payload})
        if self.connection_acknowledged and self.held is None:
            await self._hold_identity(self.view, self.context, self.websocket)

    async def handle_subscribe(self, message: Any) -> None:
        error = operation_limit_error(self.max_subscriptions_per_connection,
                                      self.connection_acknowledged, message["id"],
                                      self.operations)
        if error is not None:
            await self.send_message(
                cast(Any, {"id": message["id"], "type": "error", "payload": [error]})
            )
            return
        await super().handle_subscribe(message)


class LegacyWSHandler(_SocketIdentity, BaseGraphQLWSHandler[ChronicleContext, None]):
    """subscriptions-transport-ws (``graphql-ws``), held to the same rules.

    That protocol defines no close codes; the new protocol's are used, after a
    ``connection_error`` message where the legacy protocol expects one. The
    view keeps strawberry's default of no keep-alive messages, which this
    handler's ``connection_init`` therefore does not start.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.init_received = False

    async def handle(self) -> None:
        deadline = asyncio.create_task(self._init_deadline())
        try:
            await super().handle()
        finally:
            deadline.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deadline
            self._release_identity(self.view)

    async def _init_deadline(self) -> None:
        # The same wait as the new protocol's (strawberry's view attribute).
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.init_received:
            reason = "Connection initialisation timeout"
            await self.websocket.close(code=INIT_TIMEOUT, reason=reason)

    async def handle_message(self, message: Any) -> None:
        problem = legacy_message_problem(message)
        if problem is not None:
            await self.websocket.close(code=BAD_REQUEST, reason=problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        if self.init_received:
            # A second init could swap the caller under running operations.
            reason = "Too many initialisation requests"
            await self.websocket.close(code=TOO_MANY_INITS, reason=reason)
            return
        self.init_received = True
        self.context.connection_params = message.get("payload") or {}
        try:
            acknowledgement = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as refused:
            await self.send_message({"type": "connection_error", "payload": refused.payload})
            await self.websocket.close(code=FORBIDDEN, reason="Forbidden")
            return
        if isinstance(acknowledgement, UnsetType) or acknowledgement is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": acknowledgement})
        self.connection_acknowledged = True
        await self._hold_identity(self.view, self.context, self.websocket)

    async def handle_start(self, message: Any) -> None:
        error = operation_limit_error(self.max_subscriptions_per_connection,
                                      self.connection_acknowledged, message["id"],
                                      self.tasks)
        if error is not None:
            await self.send_message(
                cast(Any, {"type": "error", "id": message["id"], "payload": error})
            )
            return
        await super().handle_start(message)
