"""The event store on SQL: SQLite (aiosqlite) and PostgreSQL (asyncpg) alike.

Appends go through one group-committing writer per store (``events.writer``).
The hot reads (a stream, the log after a position) are one driver-SQL SELECT
each, decoded without ORM objects (``events.rows``), every row joined with its
subject's key so that a shred made by any process is honoured at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.bus import EVENTS_CHANNEL
from events.model import (
    Commit,
    CommitResult,
    EventStore,
    IdempotentReplay,
    RecordedEvent,
    Snapshot,
)
from events.notices import NoticeSender, Publisher
from events.rows import SELECT_RECORDED, DriverQuery, recorded
from events.serialization import loads
from events.tables import claims, events, idempotency, snapshots
from events.writer import IDEMPOTENCY_TTL, GroupWriter, WriterMetrics, purge_idempotency

__all__ = ["Publisher", "SqlEventStore"]


class SqlEventStore(EventStore):
    def __init__(
        self, engine: AsyncEngine, *, bus: Publisher | None = None, group_max: int = 1000
    ) -> None:
        self.engine = engine
        self._notices = NoticeSender(bus, EVENTS_CHANNEL)
        self._writer = GroupWriter(engine, group_max=group_max, on_notice=self._notices.offer)

    @property
    def metrics(self) -> WriterMetrics:
        """Counters of the writer: commits, group sizes, append latency (sum/count)."""
        return self._writer.metrics

    async def start(self) -> None:
        await purge_idempotency(self.engine)
        self._notices.start()
        await self._writer.start()

    async def close(self) -> None:
        await self._writer.stop()
        await self._notices.stop()

    async def commit(self, commit: Commit) -> CommitResult:
        return await self._writer.submit(commit)

    async def read_stream(
        self, stream_id: str, *, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        q = DriverQuery(self.engine.dialect.paramstyle)
        where = [f"e.stream_id = {q.param(stream_id)}"]
        if from_version > 1:
            where.append(f"e.version >= {q.param(from_version)}")
        if to_version is not None:
            where.append(f"e.version <= {q.param(to_version)}")
        return await self._fetch(q, f"{' AND '.join(where)} ORDER BY e.version")

    async def read_all(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        stream_id: str | None = None,
        types: Sequence[str] | None = None,
        to_position: int | None = None,
    ) -> list[RecordedEvent]:
        if types is not None and not types:
            return []
        q = DriverQuery(self.engine.dialect.paramstyle)
        where = [f"e.position > {q.param(after)}"]
        if to_position is not None:
            where.append(f"e.position <= {q.param(to_position)}")
        if stream_id is not None:
            where.append(f"e.stream_id = {q.param(stream_id)}")
        if types is not None:
            where.append(f"e.type IN ({', '.join(q.param(t) for t in types)})")
        return await self._fetch(
            q, f"{' AND '.join(where)} ORDER BY e.position LIMIT {q.param(limit)}"
        )

    async def _fetch(self, q: DriverQuery, condition: str) -> list[RecordedEvent]:
        async with self.engine.connect() as conn:
            result = await conn.exec_driver_sql(
                f"{SELECT_RECORDED} WHERE {condition}", tuple(q.params)
            )
            rows = result.all()
        return [recorded(row) for row in rows]

    async def head_position(self) -> int:
        return await self._scalar(select(func.coalesce(func.max(events.c.position), 0)))

    async def stream_version(self, stream_id: str) -> int:
        return await self._scalar(
            select(func.coalesce(func.max(events.c.version), 0))
            .where(events.c.stream_id == stream_id)
        )

    async def version_at(self, stream_id: str, at: datetime) -> int:
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return await self._scalar(
            select(func.coalesce(func.max(events.c.version), 0))
            .where(events.c.stream_id == stream_id)
            .where(events.c.recorded_at <= at)
        )

    async def _scalar(self, query: Any) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar() or 0)

    async def latest_snapshot(
        self, stream_id: str, *, max_version: int | None = None
    ) -> Snapshot | None:
        s = snapshots.c
        query = select(s.version, s.schema_version, s.state).where(s.stream_id == stream_id)
        if max_version is not None:
            query = query.where(s.version <= max_version)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query.order_by(s.version.desc()).limit(1))).first()
        if row is None:
            return None
        version, schema_version, state = row
        return Snapshot(stream_id, version, loads(state), schema_version)

    async def claim_owner(self, scope: str, value: str) -> str | None:
        query = select(claims.c.owner).where(claims.c.scope == scope, claims.c.value == value)
        async with self.engine.connect() as conn:
            owner: str | None = (await conn.execute(query)).scalar()
        return owner

    async def idempotent_result(self, key: str) -> IdempotentReplay | None:
        i = idempotency.c
        query = select(i.result, i.position).where(
            i.key == key, i.created_at > datetime.now(UTC) - IDEMPOTENCY_TTL
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else IdempotentReplay(loads(row[0]), row[1])

    async def stats(self) -> dict[str, Any]:
        e = events.c
        async with self.engine.connect() as conn:
            by_type = (await conn.execute(
                select(e.type, func.count()).group_by(e.type).order_by(e.type)
            )).all()
            streams = (await conn.execute(
                select(e.stream_type, func.count(func.distinct(e.stream_id)))
                .group_by(e.stream_type).order_by(e.stream_type)
            )).all()
            head = (await conn.execute(select(func.coalesce(func.max(e.position), 0)))).scalar()
        events_by_type = {t: int(n) for t, n in by_type}
        return {
            "events": sum(events_by_type.values()),
            "head": int(head or 0),
            "streams": sum(n for _, n in streams),
            "streams_by_type": {t: int(n) for t, n in streams},
            "events_by_type": events_by_type,
        }
