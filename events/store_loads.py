"""Loading an aggregate: its newest snapshot and the events after it, in one read.

Every command loads at least one aggregate, so these are the write path's
hottest reads; each backend gets statements of its own, made once per form.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from events.catalog import DomainEvent
from events.model import RecordedEvent, Snapshot, StreamEvents
from events.rows import (
    SELECT_RECORDED,
    TAIL_SQL,
    instant_of,
    recorded,
    stream_events,
    tail_events,
)
from events.serialization import loads
from events.store_reads import SqlReads

_VERSION = 4
"""Index of ``e.version`` in a row of ``SELECT_RECORDED``."""


@cache
def _load_sql(bounded: bool, shaped: bool, dated: bool) -> str:
    """The statement of :meth:`SqlEventStore.load_events` on PostgreSQL, made once per form.

    Its parameters: stream id[, max version][, snapshot version]. The newest
    snapshot is found whatever its shape, and its columns come only if of the
    asked one: with the shape in its WHERE clause the planner sorted every
    snapshot of the stream instead of reading the newest off the primary key
    (O(history)). A newest snapshot of another shape leaves its row without
    snapshot columns, which :meth:`SqlEventStore.load_events` answers through
    the general path.

    No joins: the snapshot (one row) is an InitPlan read once, its values put on
    the row they belong to by CASE, and a subject's key is looked up only for
    the rows that have a subject. The earlier form joined them (a merge join
    over two sorts, a hash join over a scan of ``subject_keys``), which cost the
    server noticeably more CPU per execution of its cached generic plan.

    Each index probe costs more, so only a ``dated`` load finds the stream's
    last version too, to put recorded_at on the last row alone (a timestamptz
    decoded on every row was a large part of fetching a long tail). The
    figures are in bench/README.md, "Figures behind code comments".
    Position is on every row: an int, nothing to decode.
    """
    stream = "$1"
    bound = " AND version <= $2" if bounded else ""
    shape = f" WHERE schema_version = ${3 if bounded else 2}" if shaped else ""
    newest = (
        f"SELECT version, schema_version, state FROM snapshots WHERE stream_id = {stream}{bound}"
        " ORDER BY stream_id DESC, version DESC LIMIT 1"
    )
    plans = f"snap AS MATERIALIZED ({newest})"
    recorded_at = "NULL::timestamptz"
    if dated:
        last = f"SELECT max(version) AS version FROM events WHERE stream_id = {stream}{bound}"
        plans += f", last AS MATERIALIZED ({last})"
        recorded_at = "CASE WHEN e.version = (SELECT version FROM last) THEN e.recorded_at END"
    on_snapshot = "e.version = (SELECT version FROM snap)"
    return (
        f"WITH {plans}"
        f" SELECT CASE WHEN {on_snapshot} THEN (SELECT schema_version FROM snap{shape}) END,"
        f" CASE WHEN {on_snapshot} THEN (SELECT state FROM snap{shape}) END,"
        " e.version, e.type, e.schema_version, e.data,"
        " CASE WHEN e.subject_id IS NOT NULL THEN"
        " (SELECT k.key FROM subject_keys k WHERE k.subject_id = e.subject_id) END,"
        f" e.position, {recorded_at}"
        f" FROM events e WHERE e.stream_id = {stream}{bound.replace('version', 'e.version')}"
        " AND e.version >= coalesce((SELECT version FROM snap), 1)"
        " ORDER BY e.version"
    )


@cache
def _sqlite_head_sql(bounded: bool, shaped: bool) -> str:
    """The stream's last event (version, position, recorded_at) with its newest snapshot
    (version, schema_version, state) or NULLs; no row for a stream with no events.
    Parameters: stream id[, max version][, snapshot version].

    Each row is found by its primary key from a ``max(version)`` read off the
    same index: cheaper than joining two ``ORDER BY
    version DESC LIMIT 1`` subqueries, which SQLite materialised first.
    """
    bound = " AND version <= ?2" if bounded else ""
    shape = f" AND schema_version = ?{3 if bounded else 2}" if shaped else ""
    return (
        "SELECT e.version, e.position, e.recorded_at, s.version, s.schema_version, s.state"
        " FROM events e LEFT JOIN snapshots s ON s.stream_id = ?1 AND s.version ="
        f" (SELECT max(version) FROM snapshots WHERE stream_id = ?1{bound}{shape})"
        f" WHERE e.stream_id = ?1 AND e.version ="
        f" (SELECT max(version) FROM events WHERE stream_id = ?1{bound})"
    )


class SqlLoads(SqlReads):
    """The aggregate loads of :class:`events.store.SqlEventStore`, over its reads."""

    async def latest_snapshot(
        self, stream_id: str, *, max_version: int | None = None
    ) -> Snapshot | None:
        q = self._query()
        sql = (
            "SELECT version, schema_version, state FROM snapshots"
            f" WHERE stream_id = {q.param(stream_id)}"
        )
        if max_version is not None:
            sql += f" AND version <= {q.param(max_version)}"
        rows = await self._reader.fetch_small(f"{sql} ORDER BY version DESC LIMIT 1", q.params)
        if not rows:
            return None
        version, schema_version, state = rows[0]
        return Snapshot(stream_id, version, loads(state), schema_version)

    async def load_stream(
        self, stream_id: str, *, max_version: int | None = None
    ) -> tuple[Snapshot | None, list[RecordedEvent]]:
        """Snapshot and tail in one statement: one round trip (a small read on SQLite).

        Aggregates load through :meth:`load_events`, which reads the same way.
        The tail starts at the newest snapshot's version; the snapshot's own
        columns come joined onto that first row (a snapshot is only ever written
        with the event it follows, so that row exists).
        """
        q = self._query()
        where = [f"e.stream_id = {q.param(stream_id)}"]
        newest = f"stream_id = {q.param(stream_id)}"
        if max_version is not None:
            newest += f" AND version <= {q.param(max_version)}"
        where.append(
            f"e.version >= (SELECT coalesce(max(version), 1) FROM snapshots WHERE {newest})"
        )
        if max_version is not None:
            where.append(f"e.version <= {q.param(max_version)}")
        sql = (
            "SELECT s.schema_version, s.state, r.*"
            f" FROM ({SELECT_RECORDED} WHERE {' AND '.join(where)}) r"
            " LEFT JOIN snapshots s ON s.stream_id = r.stream_id AND s.version = r.version"
            " ORDER BY r.version"
        )
        rows = await self._reader.fetch_small(sql, q.params)
        snapshot = None
        if rows and rows[0][1] is not None:
            first = rows[0]
            snapshot = Snapshot(stream_id, first[2 + _VERSION], loads(first[1]), first[0])
        elif rows and rows[0][2 + _VERSION] > 1:
            # Only a snapshot whose event is missing gets here (never written so):
            # answer as the two separate reads would.
            return await super().load_stream(stream_id, max_version=max_version)
        return snapshot, [recorded(row[2:]) for row in rows]

    async def load_events(
        self,
        stream_id: str,
        *,
        max_version: int | None = None,
        snapshot_version: int | None = None,
        dated: bool = False,
    ) -> StreamEvents:
        """Snapshot and tail in one small read, decoded straight to domain events.

        Every command loads at least one aggregate, so this is the write path's
        hottest read: one statement (one round trip; on SQLite no thread hop at
        all, see ``SqliteReader.fetch_small``), only the columns a fold needs,
        no RecordedEvent per row. The snapshot's columns come on the row of the
        event it follows (a snapshot is only ever written with that event).
        """
        bounded, shaped = max_version is not None, snapshot_version is not None
        # The parameters of both backends' statements: stream id[, max version][, snapshot version]
        params: list[Any] = [stream_id]
        if bounded:
            params.append(max_version)
        if shaped:
            params.append(snapshot_version)
        if self._reader.dialect == "sqlite":
            return await self._load_events_sqlite(stream_id, params, bounded, shaped, dated)
        rows = await self._reader.fetch_small(_load_sql(bounded, shaped, dated), params)
        snapshot = None
        if rows and rows[0][1] is not None:
            schema_version, state, version = rows[0][:3]
            snapshot = Snapshot(stream_id, version, loads(state), schema_version)
        elif rows and rows[0][2] > 1:
            # The newest snapshot is of another shape (or, never written so, its
            # event is missing): answer as the separate reads would.
            return await super().load_events(
                stream_id, max_version=max_version, snapshot_version=snapshot_version,
                dated=dated,
            )
        start = snapshot.version if snapshot is not None else 0
        events, last = stream_events(rows, after_version=start, offset=2)
        if last is None:
            return StreamEvents(None, events, 0, 0, None)
        return StreamEvents(snapshot, events, *last)

    async def _load_events_sqlite(
        self, stream_id: str, params: list[Any], bounded: bool, shaped: bool, dated: bool
    ) -> StreamEvents:
        """On SQLite, where a small read costs no round trip: first the stream's last
        event and its newest snapshot (one statement, so one state of the log), then
        exactly the events between them, by version: rows never change once written,
        so the two reads agree whatever commits in between. Each row of the tail then
        carries only what a fold needs, and a stream whose last event is snapshotted
        needs no second read at all."""
        head = await self._reader.fetch_small(_sqlite_head_sql(bounded, shaped), params)
        if not head:
            return StreamEvents(None, [], 0, 0, None)
        version, position, recorded_at, start, schema_version, state = head[0]
        snapshot = None
        if start is not None:
            snapshot = Snapshot(stream_id, start, loads(state), schema_version)
        events: list[DomainEvent] = []
        if version > (start or 0):
            tail = await self._reader.fetch_small(TAIL_SQL, (stream_id, start or 0, version))
            events = tail_events(tail)
        instant = instant_of(recorded_at) if dated else None
        return StreamEvents(snapshot, events, version, position, instant)
