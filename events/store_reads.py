"""The store's reads of the log: by stream and by position, the lookups commands make
(claims, idempotency keys), versions, the head and the stats.

Each read is one driver-level SELECT (``events.reading``), decoded without ORM
objects (``events.rows``), every event row joined with its subject's key so
that a shred made by any process is honoured at once. Loading an aggregate is
in ``events.store_loads``; appends in ``events.store``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.contract import EventStore
from events.idempotency import replay_of
from events.model import IdempotentReplay, RecordedEvent
from events.reading import INLINE_ROWS, DriverQuery, Reader
from events.rows import SELECT_RECORDED, recorded_all
from events.tables import events, to_text

_SCAN_SPAN = 16
"""On SQLite, events of several types in a bounded span of positions of at most this
many times the limit (a projection's batch, see ``projections.batches``) are found
by walking the positions and skipping the other types, not through the
``(type, position)`` index: the index's matches of several types come back out of
order, and sorting a batch of whole rows cost twice the walk (a rebuild's
batches are mostly of the projection's types). The walk is bounded by the span
even when few events match, and skipping a position is cheap."""


class SqlReads(EventStore):
    """The reads of :class:`events.store.SqlEventStore`, which opens ``engine`` and ``_reader``."""

    engine: AsyncEngine
    idempotency_ttl: timedelta
    _reader: Reader

    async def read_stream(
        self, stream_id: str, *, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        q = self._query()
        where = [f"e.stream_id = {q.param(stream_id)}"]
        if from_version > 1:
            where.append(f"e.version >= {q.param(from_version)}")
        if to_version is not None:
            where.append(f"e.version <= {q.param(to_version)}")
        return await self._recorded(q, f"{' AND '.join(where)} ORDER BY e.version")

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
        q = self._query()
        where = [f"e.position > {q.param(after)}"]
        if to_position is not None:
            where.append(f"e.position <= {q.param(to_position)}")
        if stream_id is not None:
            where.append(f"e.stream_id = {q.param(stream_id)}")
        if types is not None:
            # ``+`` keeps SQLite off the (type, position) index: see _SCAN_SPAN.
            scan = (
                self._reader.dialect == "sqlite" and len(types) > 1 and to_position is not None
                and to_position - after <= _SCAN_SPAN * limit
            )
            column = "+e.type" if scan else "e.type"
            where.append(f"{column} IN ({', '.join(q.param(t) for t in types)})")
        # A span of few positions (a live projection's next batch) is a small read
        # whatever the limit: at most that many rows, found walking that many.
        small = to_position is not None and to_position - after <= INLINE_ROWS
        return await self._recorded(
            q, f"{' AND '.join(where)} ORDER BY e.position LIMIT {q.param(limit)}", small=small
        )

    async def _recorded(
        self, q: DriverQuery, condition: str, *, small: bool = False
    ) -> list[RecordedEvent]:
        fetch = self._reader.fetch_small if small else self._reader.fetch
        rows = await fetch(f"{SELECT_RECORDED} WHERE {condition}", q.params)
        return recorded_all(rows)

    async def head_position(self) -> int:
        return await self._number("SELECT max(position) FROM events", ())

    async def stream_version(self, stream_id: str) -> int:
        q = self._query()
        sql = f"SELECT max(version) FROM events WHERE stream_id = {q.param(stream_id)}"
        return await self._number(sql, q.params)

    async def version_at(self, stream_id: str, at: datetime) -> int:
        """The stream's newest version recorded at or before ``at`` (0 if none).

        Walks the stream's ``(stream_id, version)`` index from its newest event down
        and stops at the first one recorded by then: the cost is the number of the
        stream's events recorded after ``at``. (No index on recorded_at: every append
        would pay for it, see migration 0003_no_stream_time_index.)
        """
        q = self._query()
        sql = (
            f"SELECT version FROM events WHERE stream_id = {q.param(stream_id)}"
            f" AND recorded_at <= {q.param(self._instant(at))} ORDER BY version DESC LIMIT 1"
        )
        return await self._number(sql, q.params)

    async def claim_owner(self, scope: str, value: str) -> str | None:
        q = self._query()
        sql = (
            f"SELECT owner FROM claims WHERE scope = {q.param(scope)}"
            f" AND value = {q.param(value)}"
        )
        rows = await self._reader.fetch_small(sql, q.params)
        return str(rows[0][0]) if rows else None

    async def idempotent_result(self, key: str) -> IdempotentReplay | None:
        q = self._query()
        fresh_since = self._instant(datetime.now(UTC) - self.idempotency_ttl)
        sql = (
            f"SELECT result, position FROM idempotency WHERE key = {q.param(key)}"
            f" AND created_at > {q.param(fresh_since)}"
        )
        rows = await self._reader.fetch_small(sql, q.params)
        return replay_of(rows[0][0], rows[0][1]) if rows else None

    def _query(self) -> DriverQuery:
        return DriverQuery(self._reader.dialect)

    def _instant(self, at: datetime) -> Any:
        """An instant as this backend's driver compares it (ISO text on SQLite)."""
        if self._reader.dialect == "sqlite":
            return to_text(at)
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    async def _number(self, sql: str, params: Sequence[Any]) -> int:
        rows = await self._reader.fetch_small(sql, params)
        return int(rows[0][0] or 0) if rows else 0

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
