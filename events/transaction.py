"""One group commit as a sequence of driver statements, free of any I/O.

:func:`group_commit` is a generator: it yields each :class:`Statement` and is
sent the rows it returned. A session (``events.write_sessions``) drives it
inside one write transaction: on SQLite synchronously in the writer's own
thread, so a whole group costs one hop to that thread instead of one per
statement; on PostgreSQL through the async engine. Both run the same SQL and
the same checks (:class:`events.grouping.Group`).
"""

from __future__ import annotations

from collections.abc import Collection, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from events.db import LOG_WRITE_LOCK
from events.grouping import Group
from events.idempotency import IDEMPOTENCY_TTL, replay_of
from events.model import (
    ClaimTaken,
    Commit,
    CommitResult,
    ConcurrencyError,
    IdempotencyKeyReused,
    IdempotentReplay,
)
from events.reading import DriverQuery, Rows
from events.rows import insert_events_sql
from events.tables import to_text

__all__ = ["IDEMPOTENCY_TTL", "Outcome", "Refusal", "Statement", "group_commit", "instant"]

CHUNK: Final = 500
"""Values per IN list: well below SQLite's and asyncpg's bound-parameter limits."""

Refusal = ConcurrencyError | ClaimTaken | IdempotentReplay | IdempotencyKeyReused
Outcome = CommitResult | Refusal
T = TypeVar("T")


@dataclass(frozen=True)
class Statement:
    sql: str
    params: Sequence[Any]
    many: bool = False
    """``params`` is a sequence of row tuples, for executemany."""


Steps = Generator[Statement, Rows, T]


def instant(dialect: str, at: datetime) -> Any:
    """An instant as the backend's driver stores and compares it (ISO text on SQLite)."""
    return to_text(at) if dialect == "sqlite" else at


def group_commit(
    commits: Sequence[Commit],
    *,
    dialect: str,
    recorded_at: datetime,
    known_keys: Mapping[str, bytes],
    idempotency_ttl: timedelta = IDEMPOTENCY_TTL,
) -> Steps[tuple[list[Outcome], Group]]:
    """Check ``commits`` in order against the log, write the accepted ones; run in a transaction.

    Idempotency keys first used less than ``idempotency_ttl`` before ``recorded_at``
    are read under the write lock, so two commits with one key, in one group or
    in two, can never both be accepted.
    """
    if dialect != "sqlite":
        # Held to COMMIT: positions become visible strictly in commit order, and
        # the checks below cannot race another process's writer.
        yield Statement("SELECT pg_advisory_xact_lock($1)", (LOG_WRITE_LOCK,))
    head, versions = yield from _head_and_versions(dialect, commits)
    group = Group(
        head=head,
        recorded_at=recorded_at,
        stored_at=instant(dialect, recorded_at),
        versions=versions,
        owners=(yield from _owners(dialect, commits)),
        replays=(yield from _replays(dialect, commits, recorded_at - idempotency_ttl)),
        keys=(yield from _subject_keys(dialect, commits, known_keys)),
    )
    outcomes: list[Outcome] = []
    for commit in commits:
        try:
            outcomes.append(group.accept(commit))
        except (ConcurrencyError, ClaimTaken, IdempotentReplay, IdempotencyKeyReused) as refusal:
            outcomes.append(refusal)
    yield from _flush(dialect, group)
    return outcomes, group


def _head_and_versions(
    dialect: str, commits: Sequence[Commit]
) -> Steps[tuple[int, dict[str, int]]]:
    # One round trip for both: the head is the row whose stream_id is NULL.
    head, versions = 0, {}
    stream_ids = list({a.stream_id for c in commits for a in c.appends})
    for i, chunk in enumerate(_chunks(stream_ids) if stream_ids else [[]]):
        q = DriverQuery(dialect)
        sql = (
            "SELECT stream_id, max(version) FROM events"
            f" WHERE stream_id IN ({_marks(q, chunk)}) GROUP BY stream_id"
        ) if chunk else ""
        if i == 0:
            head_sql = "SELECT NULL, max(position) FROM events"
            sql = f"{head_sql} UNION ALL {sql}" if sql else head_sql
        for sid, value in (yield Statement(sql, q.params)):
            if sid is None:
                head = int(value or 0)
            else:
                versions[sid] = int(value)
    return head, versions


def _owners(dialect: str, commits: Sequence[Commit]) -> Steps[dict[tuple[str, str], str]]:
    wanted = list({(c.scope, c.value) for m in commits for c in (*m.claims, *m.releases)})
    owners: dict[tuple[str, str], str] = {}
    for chunk in _chunks(wanted):
        q = DriverQuery(dialect)
        pairs = ", ".join(f"({q.param(scope)}, {q.param(value)})" for scope, value in chunk)
        sql = f"SELECT scope, value, owner FROM claims WHERE (scope, value) IN ({pairs})"
        owners.update({(s, v): o for s, v, o in (yield Statement(sql, q.params))})
    return owners


def _replays(
    dialect: str, commits: Sequence[Commit], fresh_since: datetime
) -> Steps[dict[str, IdempotentReplay]]:
    wanted = list({c.idempotency_key for c in commits if c.idempotency_key})
    replays: dict[str, IdempotentReplay] = {}
    for chunk in _chunks(wanted):
        q = DriverQuery(dialect)
        sql = (
            f"SELECT key, result, position FROM idempotency WHERE key IN ({_marks(q, chunk)})"
            f" AND created_at > {q.param(instant(dialect, fresh_since))}"
        )
        rows = yield Statement(sql, q.params)
        replays.update({k: replay_of(r, int(p)) for k, r, p in rows})
    return replays


def _subject_keys(
    dialect: str, commits: Sequence[Commit], known: Mapping[str, bytes]
) -> Steps[dict[str, bytes | None]]:
    """Keys of the subjects whose personal data this group seals (cached ones not re-read)."""
    wanted = set()
    for commit in commits:
        for append in commit.appends:
            for e in append.events:
                spec = e.spec
                if spec.personal and spec.subject and (subject := getattr(e, spec.subject)):
                    wanted.add(str(subject))
    keys: dict[str, bytes | None] = {s: known[s] for s in wanted if s in known}
    for chunk in _chunks(wanted - keys.keys()):
        q = DriverQuery(dialect)
        sql = f"SELECT subject_id, key FROM subject_keys WHERE subject_id IN ({_marks(q, chunk)})"
        keys.update({s: bytes(k) for s, k in (yield Statement(sql, q.params))})
    return keys


def _flush(dialect: str, group: Group) -> Steps[None]:
    if group.event_rows:
        yield Statement(insert_events_sql(dialect), group.event_rows, many=True)
    if group.snapshot_rows:
        yield _insert(dialect, "snapshots",
                      ("stream_id", "version", "schema_version", "state", "created_at"),
                      group.snapshot_rows)
    deleted, inserted = group.claim_changes()
    for chunk in _chunks(deleted):
        q = DriverQuery(dialect)
        pairs = ", ".join(f"({q.param(scope)}, {q.param(value)})" for scope, value in chunk)
        yield Statement(f"DELETE FROM claims WHERE (scope, value) IN ({pairs})", q.params)
    if inserted:
        yield _insert(dialect, "claims", ("scope", "value", "owner"), inserted)
    if group.idempotency_rows:
        # a key older than the TTL may still have its row: the new use replaces it
        yield from _delete_in(dialect, "idempotency", "key", [r[0] for r in group.idempotency_rows])
        yield _insert(dialect, "idempotency", ("key", "result", "position", "created_at"),
                      group.idempotency_rows)
    yield from _delete_in(dialect, "subject_keys", "subject_id", group.shredded)
    if group.new_keys:
        yield _insert(dialect, "subject_keys", ("subject_id", "key", "created_at"),
                      [(s, k, group.stored_at) for s, k in group.new_keys.items()])


def _insert(
    dialect: str, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> Statement:
    q = DriverQuery(dialect)
    marks = ", ".join(q.param(None) for _ in columns)
    return Statement(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows, True)


def _delete_in(dialect: str, table: str, column: str, values: Collection[str]) -> Steps[None]:
    for chunk in _chunks(values):
        q = DriverQuery(dialect)
        yield Statement(f"DELETE FROM {table} WHERE {column} IN ({_marks(q, chunk)})", q.params)


def _marks(q: DriverQuery, values: Iterable[Any]) -> str:
    return ", ".join(q.param(v) for v in values)


def _chunks(items: Iterable[T]) -> list[list[T]]:
    listed = list(items)
    return [listed[i:i + CHUNK] for i in range(0, len(listed), CHUNK)]
