"""The typed per-request context: the only thing resolvers and field resolvers reach for.

``schema.context`` builds one :class:`RequestContext` per HTTP request and per
websocket *operation*. DataLoaders cache for the lifetime of the context, so a
context shared by every event of a long-lived socket would serve stale rows
(docs/architecture.md, "One context per socket"): subscriptions call
:meth:`RequestContext.forget_loaders` before each result they emit.

**Who asks is read through one seam.** ``context.actor`` is a descriptor that
records every read (``read_caller``): an answer whose execution never read it
is the same for every caller of its visibility class, so the response cache
(``chronicle.response_cache``) may share it. The class itself (anonymous,
member, admin) is part of every cache key, so :attr:`RequestContext.is_admin`
does not record. The transport's own bookkeeping before and around the
executor (the token check, the cache key, the cost budget) reads
:meth:`RequestContext.identity`, which records nothing: resolvers never call
it (``tests/unit/test_caller_reads.py`` keeps it so).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.commands import Command
from domain.ports import Actor, Outcome
from events.readers import EngineReader
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from domain.security import TokenService
    from events.bus import Bus
    from events.reading import Reader
    from events.store import SqlEventStore
    from projections.runner import ProjectionRunner
    from resolvers.credentials import Credentials
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

    credentials: Credentials | None = None
    """Members' credentials in memory for the token check (``resolvers.credentials``);
    without it every authenticated request reads them from the users table."""

    def driver_reader(self) -> Reader:
        """The reader for driver-level reads: ``reader``, else one over the engine."""
        return self.reader if self.reader is not None else EngineReader(self.engine)


class _RecordedCaller:
    """``RequestContext.actor``: reading it marks the answer as depending on who asks.

    A descriptor-typed dataclass field (the ``dataclasses`` module documents
    them): the constructor's ``actor=`` goes through ``__set__``, and having no
    class-level default keeps the argument required.
    """

    @overload
    def __get__(self, obj: None, owner: Any = None) -> _RecordedCaller: ...
    @overload
    def __get__(self, obj: RequestContext, owner: Any = None) -> Actor | None: ...

    def __get__(self, obj: RequestContext | None, owner: Any = None
                ) -> Actor | _RecordedCaller | None:
        if obj is None:
            raise AttributeError("actor")  # no default: the dataclass field is required
        obj.read_caller = True
        return obj._actor

    def __set__(self, obj: RequestContext, value: Actor | None) -> None:
        obj._actor = value


@dataclass
class RequestContext:
    """One request (or one websocket operation): who asks, and its DataLoaders.

    ``loaders`` is not a constructor argument: it is created here from the
    services and the actor, so nobody can hand a request another one's cache.
    It is created on first use: a subscriber whose results are shared
    (``schema.sharing``) never resolves a field, and needs none.
    """

    services: Services
    request_id: str
    actor: _RecordedCaller = _RecordedCaller()
    """Who asks (None: anonymous), required (see ``_RecordedCaller``). Reading it sets
    ``read_caller``."""
    min_position: int | None = None
    read_caller: bool = field(default=False, init=False)
    """Something read ``actor`` since the context was made: the answer may be the caller's own."""
    committed: dict[str, int] | None = field(default=None, init=False)
    """Each mutation field (by response key) whose write committed, with its position: an
    error later in that field's answer still says the write was recorded (``schema.errors``)."""
    _actor: Actor | None = field(default=None, init=False, repr=False)
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            services = self.services
            # The loaders read the caller only when a caller-keyed row is asked for.
            self._loaders = Loaders(services.driver_reader(), services.engine.dialect,
                                    services.runner, lambda: self.actor)
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
        """The caller's visibility class is admin: part of every cache key, so not recorded."""
        return self._actor is not None and self._actor.is_admin

    def identity(self) -> Actor | None:
        """Who asks, *without* recording it: for the transport's bookkeeping only (the
        token check, the response cache's key, the cost budget), never for an answer."""
        return self._actor
