"""The one place that wires settings, store, bus, projections and handlers.

The ASGI app's lifespan, the CLI and the tests all build Chronicle through
:func:`start`, so they run the same components.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncEngine

from chronicle.settings import Settings
from domain.commands import Command
from domain.handlers import handle
from domain.ports import Actor, Context, Outcome
from domain.security import Argon2Hasher, TokenService
from events.bus import Bus
from events.db import create_engine, migrate
from events.pg_reader import ReadTimeouts
from events.store import SqlEventStore
from projections.runner import ProjectionRunner


@dataclass
class Chronicle:
    settings: Settings
    engine: AsyncEngine
    bus: Bus
    store: SqlEventStore
    runner: ProjectionRunner
    hasher: Argon2Hasher
    tokens: TokenService

    def context(self, actor: Actor | None, correlation_id: str | None = None) -> Context:
        s = self.settings
        return Context(
            log=self.store,
            hasher=self.hasher,
            actor=actor,
            correlation_id=correlation_id or str(uuid4()),
            snapshot_every=s.snapshot_every,
            login_max_failures=s.login_max_failures,
            login_window_seconds=s.login_window_seconds,
        )

    async def execute(
        self, command: Command, actor: Actor | None = None, correlation_id: str | None = None
    ) -> Outcome:
        return await handle(command, self.context(actor, correlation_id))

    async def stop(self) -> None:
        await self.runner.stop()
        await self.store.close()
        await self.bus.disconnect()
        await self.engine.dispose()


async def start(settings: Settings, *, projections: bool = True) -> Chronicle:
    """Migrate, connect and start everything; ``projections=False`` for one-shot CLI commands."""
    url = settings.resolved_database_url
    if settings.is_embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate(url)
    engine = create_engine(url, sqlite_synchronous=settings.sqlite_synchronous)
    bus = Bus(settings.broadcast_url)
    await bus.connect()
    store = SqlEventStore(
        engine, bus=bus, group_max=settings.group_commit_max,
        idempotency_ttl=timedelta(seconds=settings.idempotency_ttl_seconds),
        read_timeouts=ReadTimeouts(
            connect=settings.pg_read_connect_timeout_seconds,
            command=settings.pg_read_command_timeout_seconds,
        ),
    )
    await store.start()
    runner = ProjectionRunner(
        engine,
        store,
        bus,
        batch_size=settings.projection_batch_size,
        poll_interval=settings.projection_poll_interval,
    )
    if projections:
        await runner.start()
    return Chronicle(
        settings=settings,
        engine=engine,
        bus=bus,
        store=store,
        runner=runner,
        hasher=Argon2Hasher(
            time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost_kib
        ),
        tokens=TokenService(settings.resolved_secret_key(), settings.token_ttl_seconds),
    )
