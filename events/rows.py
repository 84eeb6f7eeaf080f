"""Domain events to stored rows and back.

Writing: snake_case fields become camelCase JSON, personal fields sealed with
the subject's key. Reading: one SELECT brings each row with its subject's key
(NULL once shredded); fields are unsealed, renamed back and upcast, by one
decode path (:func:`_decoded`) whatever the row's shape or schema version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, Final

import orjson

from events import crypto
from events.catalog import CATALOG, DomainEvent
from events.ids import parse_uuid
from events.model import RecordedEvent
from events.serialization import camel, dumps, snake
from events.shapes import data_of, fields_of, from_data
from events.upcasting import upcast

EVENT_COLUMNS: Final = (
    "position", "event_id", "stream_id", "stream_type", "version", "type", "schema_version",
    "data", "subject_id", "actor_id", "correlation_id", "causation_id", "recorded_at",
)
"""The order of the tuples :func:`insert_events_sql` takes."""


def insert_events_sql(dialect: str) -> str:
    """The INSERT of event rows as driver SQL, for ``executemany`` of plain tuples.

    A group inserts up to thousands of rows; SQLAlchemy's per-row parameter
    processing would cost more than the insert itself.
    """
    if dialect == "sqlite":
        marks = ", ".join("?" for _ in EVENT_COLUMNS)
    else:
        marks = ", ".join(f"${i}" for i in range(1, len(EVENT_COLUMNS) + 1))
    return f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})"


def recorded_event(**fields: Any) -> RecordedEvent:
    """A RecordedEvent built straight into its __dict__.

    A frozen dataclass's __init__ goes through object.__setattr__ per field,
    several times the cost, on the hot paths of loading and appending.
    """
    event = object.__new__(RecordedEvent)
    event.__dict__.update(fields)
    return event


KeyFor = Callable[[str], bytes]
"""The current key of a subject, created if it has none yet."""


@cache
def _stored_names(event_type: str) -> tuple[tuple[str, str], ...]:
    """(snake_case field, stored camelCase name) of each field of the type, in order."""
    return tuple((name, camel(name)) for name in fields_of(CATALOG[event_type].cls).fields)


def stored_data(event: DomainEvent, key_for: KeyFor) -> tuple[str, str | None, dict[str, Any]]:
    """(camelCase JSON to store, subject whose key sealed it, plain snake_case data).

    Raises ValueError for personal data without a subject: it would otherwise be
    stored in clear, beyond the reach of crypto-shredding.
    """
    spec = event.spec
    plain = data_of(event)
    stored = {stored_name: plain[name] for name, stored_name in _stored_names(spec.name)}
    personal = [name for name in spec.personal if plain.get(name) is not None]
    if not personal:
        return dumps(stored), None, plain
    subject = plain.get(spec.subject) if spec.subject else None
    if not subject:
        raise ValueError(f"{spec.name}: personal data without a subject whose key seals it")
    key = key_for(str(subject))
    for name in personal:
        stored[camel(name)] = crypto.seal(key, spec.name, name, plain[name])
    return dumps(stored), str(subject), plain


def stored_text(event: DomainEvent, key_for: KeyFor) -> tuple[str, str | None]:
    """``stored_data(event, key_for)[:2]``, for the append path, which needs no plain data.

    Events of a type without personal fields (most of them) are dumped straight
    from their attributes: orjson writes a tuple as the same array as the list
    :func:`stored_data` makes of it.
    """
    if event.spec.personal:
        text, subject, _ = stored_data(event, key_for)
        return text, subject
    values = event.__dict__
    stored = {stored_name: values[name] for name, stored_name in _stored_names(event.spec.name)}
    return dumps(stored), None


def plain_data(event: DomainEvent) -> dict[str, Any]:
    """The plain snake_case data of ``event`` as :func:`stored_data` returns it."""
    return data_of(event)


SELECT_RECORDED: Final = (
    "SELECT e.position, e.event_id, e.stream_id, e.stream_type, e.version, e.type,"
    " e.schema_version, e.data, e.actor_id, e.correlation_id, e.causation_id, e.recorded_at,"
    " k.key FROM events e LEFT JOIN subject_keys k ON k.subject_id = e.subject_id"
)
"""Every column :func:`recorded` needs, in its order, with the subject's key (NULL once
shredded). Run as driver SQL: SQLAlchemy's compilation and per-column result
processors cost four Python calls per row on the aggregate-loading hot path."""


def stream_events(
    rows: Sequence[Sequence[Any]], *, after_version: int = 0, offset: int = 0
) -> tuple[list[DomainEvent], tuple[int, int, datetime] | None]:
    """Rows of PostgreSQL's aggregate load (``events.store_loads._load_sql``): behind ``offset``
    leading columns, each event's version, type, schema_version, data, subject key,
    position and recorded_at. The domain events of those past ``after_version``,
    and the last row's (version, position, recorded_at), or None without rows."""
    version, type_, key = offset, offset + 1, offset + 4
    events = [
        domain_event(row[type_], row[type_ + 1], row[type_ + 2], row[key])
        for row in rows
        if row[version] > after_version
    ]
    if not rows:
        return events, None
    last = rows[-1]
    return events, (last[version], last[offset + 5], last[offset + 6])


TAIL_SQL: Final = (
    "SELECT e.type, e.schema_version, e.data, k.key"
    " FROM events e LEFT JOIN subject_keys k ON k.subject_id = e.subject_id"
    " WHERE e.stream_id = ? AND e.version > ? AND e.version <= ? ORDER BY e.version"
)
"""A stream's events in a range of versions (after, up to), as SQLite driver SQL with
only the columns :func:`tail_events` decodes: each column costs SQLite a Python
object per row, a visible share of reading a long tail."""


def tail_events(rows: Sequence[Sequence[Any]]) -> list[DomainEvent]:
    """Rows of :data:`TAIL_SQL` as domain events."""
    return [domain_event(type_, schema_version, text, key)
            for type_, schema_version, text, key in rows]


def instant_of(value: str | datetime) -> datetime:
    """A recorded_at as read: ISO text from a raw SQLite row, else the datetime itself."""
    return _parsed_instant(value) if isinstance(value, str) else value


@lru_cache(maxsize=256)
def _parsed_instant(text: str) -> datetime:
    """The rows of one commit share their instant: parsed once, not once per row."""
    return datetime.fromisoformat(text)


@cache
def _decoding(event_type: str) -> tuple[tuple[tuple[str, str], ...], int]:
    """(snake_case, stored camelCase) names of the type's personal fields, and the schema
    version rows are upcast to (0 for a type the catalog no longer knows: as stored)."""
    spec = CATALOG.get(event_type)
    if spec is None:
        return (), 0
    return tuple((name, camel(name)) for name in spec.personal), spec.schema_version


def _decoded(
    type_: str, schema_version: int, text: str, key: bytes | None
) -> tuple[dict[str, Any], int]:
    """A row's stored JSON as snake_case data at the current schema version, and that
    version: personal fields unsealed (None once shredded), keys renamed, upcast."""
    personal, current = _decoding(type_)
    stored: dict[str, Any] = orjson.loads(text)
    for name, stored_name in personal:
        if stored.get(stored_name) is not None:
            stored[stored_name] = crypto.unseal(key, type_, name, stored[stored_name])
    data = {snake(k): v for k, v in stored.items()}
    if schema_version < current:
        data = upcast(type_, schema_version, current, data)
        schema_version = current
    return data, schema_version


def domain_event(type_: str, schema_version: int, text: str, key: bytes | None) -> DomainEvent:
    """The domain event of a stored row: ``recorded(row).to_domain()`` without the
    RecordedEvent."""
    return from_data(type_, _decoded(type_, schema_version, text, key)[0])


def recorded(row: Sequence[Any]) -> RecordedEvent:
    """A row of :data:`SELECT_RECORDED` as a RecordedEvent: unsealed, snake_case, upcast."""
    (position, event_id, stream_id, stream_type, version, type_, schema_version, text,
     actor_id, correlation_id, causation_id, recorded_at, key) = row
    data, schema_version = _decoded(type_, schema_version, text, key)
    event = object.__new__(RecordedEvent)  # as recorded_event(), without the keywords
    event.__dict__.update({
        "event_id": parse_uuid(event_id) if isinstance(event_id, str) else event_id,
        "position": position,
        "stream_id": stream_id,
        "stream_type": stream_type,
        "version": version,
        "type": type_,
        "schema_version": schema_version,
        "data": data,
        "recorded_at": instant_of(recorded_at),
        "actor_id": actor_id,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
    })
    return event


def recorded_all(rows: Iterable[Sequence[Any]]) -> list[RecordedEvent]:
    """Rows of :data:`SELECT_RECORDED` as RecordedEvents: unsealed, snake_case, upcast."""
    return [recorded(row) for row in rows]
