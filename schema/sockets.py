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
from typing import Any, Final, cast

from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.unset import UnsetType

from schema.context import ChronicleContext
from schema.identities import Held, Identities
from schema.socket_messages import (
    legacy_message_problem,
    operation_limit_error,
    transport_message_problem,
)

BAD_REQUEST: Final = 4400
FORBIDDEN: Final = 4403
INIT_TIMEOUT: Final = 4408
TOO_MANY_INITS: Final = 4429

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
