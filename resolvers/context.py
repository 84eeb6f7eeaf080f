"""The typed per-request context: the only thing resolvers and field resolvers reach for.

``schema.context`` builds one :class:`RequestContext` per HTTP request and per
websocket *operation*. DataLoaders cache for the lifetime of the context, so a
context shared by every event of a long-lived socket would serve stale rows
(docs/architecture.md, "One context per socket"): subscriptions call
:meth:`RequestContext.forget_loaders` before each result they emit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.commands import Command
from domain.ports import Actor, Outcome
from events.reading import EngineReader
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from domain.security import TokenService
    from events.bus import Bus
    from events.reading import Reader
    from events.store import SqlEventStore
    from projections.runner import ProjectionRunner
    from resolvers.hub import LiveHub

Execute = Callable[[Command, Actor | None, str | None], Awaitable[Outcome]]
"""Runs a domain command as ``actor`` with a correlation id (the request id)."""


@dataclass(frozen=True)
class Services:
    """Long-lived components shared by every request of one process."""

    store: SqlEventStore
    runner: ProjectionRunner
    engine: AsyncEngine
    execute: Execute
    tokens: TokenService
    max_page_size: int = 100
    read_wait_timeout: float = 5.0
    bus: Bus | None = None
    """Subscriptions listen here; without one they fail with a clear error."""
    hub: LiveHub | None = None
    """The process's shared followers of the log and the read model (subscriptions)."""
    reader: Reader | None = None
    """Driver-level reads (``events.reading``) for the per-request lookups that run
    outside any GraphQL field: the caller's role. Through the engine's pool each
    lookup costs a checkout, a BEGIN and a ROLLBACK besides the query (several
    times the query on SQLite), and under 32 concurrent requests it also pushed
    the pool into overflow, opening and closing connections. Without one (tests
    that build Services by hand) those lookups go through the engine."""

    def driver_reader(self) -> Reader:
        """The reader for driver-level reads: ``reader``, else one over the engine."""
        return self.reader if self.reader is not None else EngineReader(self.engine)


@dataclass
class RequestContext:
    """One request (or one websocket operation): who asks, and its DataLoaders.

    ``loaders`` is not a constructor argument: it is created here from the
    services and the actor, so nobody can hand a request another one's cache.
    It is created on first use: a subscriber whose results are shared
    (``schema.sharing``) never resolves a field, and needs none.
    """

    services: Services
    actor: Actor | None
    request_id: str
    min_position: int | None = None
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            services = self.services
            self._loaders = Loaders(services.driver_reader(), services.engine.dialect,
                                    services.runner, self.actor)
        return self._loaders

    def renew_loaders(self) -> Loaders:
        """Drop every cached row: for each event a subscription emits."""
        self._loaders = None
        return self.loaders

    def forget_loaders(self) -> None:
        """Drop every cached row; new loaders come with the next field that needs one."""
        self._loaders = None

    @property
    def is_admin(self) -> bool:
        return self.actor is not None and self.actor.is_admin
