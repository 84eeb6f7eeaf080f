"""Domain events to stored rows and back.

Writing: snake_case fields become camelCase JSON, personal fields sealed with
the subject's key. Reading: one SELECT brings each row with its subject's key
(NULL once shredded); fields are unsealed, renamed back and upcast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

import orjson

from events import crypto
from events.catalog import CATALOG, DomainEvent, data_of, from_data
from events.ids import parse_uuid
from events.model import RecordedEvent
from events.serialization import camel, dumps, snake
from events.upcasting import upcast

_new = object.__new__


class _SnakeNames(dict[str, str]):
    """camelCase -> snake_case, learnt on first sight: a dict lookup, not a call, per key."""

    def __missing__(self, name: str) -> str:
        self[name] = converted = snake(name)
        return converted


_SNAKE = _SnakeNames()

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

    A frozen dataclass's __init__ goes through object.__setattr__ per field
    and costs about four times as much, on the hot paths of loading and appending.
    """
    event = _new(RecordedEvent)
    event.__dict__.update(fields)
    return event


KeyFor = Callable[[str], bytes]
"""The current key of a subject, created if it has none yet."""


def stored_data(event: DomainEvent, key_for: KeyFor) -> tuple[str, str | None, dict[str, Any]]:
    """(camelCase JSON to store, subject whose key sealed it, plain snake_case data).

    Raises ValueError for personal data without a subject: it would otherwise be
    stored in clear, beyond the reach of crypto-shredding.
    """
    spec = event.spec
    plain = data_of(event)
    # camelCase names in field order, which is also ``plain``'s key order
    names = _CAMEL.get(spec.name) or _camel_names(spec.name, plain)
    personal = spec.personal and {name for name in spec.personal if plain.get(name) is not None}
    if not personal:
        return dumps(dict(zip(names, plain.values(), strict=True))), None, plain
    subject = plain.get(spec.subject) if spec.subject else None
    if not subject:
        raise ValueError(f"{spec.name}: personal data without a subject whose key seals it")
    key = key_for(str(subject))
    stored = {
        camel(name): crypto.seal(key, spec.name, name, value) if name in personal else value
        for name, value in plain.items()
    }
    return dumps(stored), str(subject), plain


_CAMEL: dict[str, tuple[str, ...]] = {}
"""Per event type, its fields' stored (camelCase) names in field order."""


def _camel_names(event_type: str, plain: dict[str, Any]) -> tuple[str, ...]:
    names = _CAMEL[event_type] = tuple(camel(name) for name in plain)
    return names


SELECT_RECORDED: Final = (
    "SELECT e.position, e.event_id, e.stream_id, e.stream_type, e.version, e.type,"
    " e.schema_version, e.data, e.actor_id, e.correlation_id, e.causation_id, e.recorded_at,"
    " k.key FROM events e LEFT JOIN subject_keys k ON k.subject_id = e.subject_id"
)
"""Every column :func:`recorded` needs, in its order, with the subject's key (NULL once
shredded). Run as driver SQL: SQLAlchemy's compilation and per-column result
processors cost four Python calls per row on the aggregate-loading hot path."""


class _Decoding:
    """What decoding a row of one event type needs, worked out once per type."""

    __slots__ = ("personal", "schema_version")

    def __init__(self, event_type: str) -> None:
        spec = CATALOG.get(event_type)
        self.personal: tuple[tuple[str, str], ...] = (
            tuple((name, camel(name)) for name in spec.personal) if spec is not None else ()
        )
        """(snake_case, stored camelCase) names of the personal fields to unseal."""
        self.schema_version = spec.schema_version if spec is not None else 0
        """The version rows are upcast to; 0 for a type the catalog no longer knows (as stored)."""


class _Decodings(dict[str, _Decoding]):
    def __missing__(self, event_type: str) -> _Decoding:
        self[event_type] = decoding = _Decoding(event_type)
        return decoding


_DECODINGS = _Decodings()

_last_instant: tuple[str, datetime] = ("", datetime.min)
"""The last recorded_at text parsed, with its value: the rows of one commit share
their instant, so a stream loaded in order parses it once per commit, not per row.
(A tuple, replaced whole: safe to read from the reader's threads.)"""


def _instant(text: str) -> datetime:
    global _last_instant
    last_text, value = _last_instant
    if text != last_text:
        value = datetime.fromisoformat(text)
        _last_instant = (text, value)
    return value


def _data(
    type_: str, schema_version: int, text: str, key: bytes | None
) -> tuple[dict[str, Any], int]:
    """A row's stored JSON as snake_case data at the current schema version (and that version)."""
    stored: dict[str, Any] = orjson.loads(text)
    decoding = _DECODINGS[type_]
    for name, field in decoding.personal:  # types without personal fields skip the crypto
        if stored.get(field) is not None:
            stored[field] = crypto.unseal(key, type_, name, stored[field])
    data = {_SNAKE[k]: v for k, v in stored.items()}
    if schema_version < decoding.schema_version:
        data = upcast(type_, schema_version, decoding.schema_version, data)
        schema_version = decoding.schema_version
    return data, schema_version


def recorded(row: Sequence[Any]) -> RecordedEvent:
    """A row of :data:`SELECT_RECORDED` as a RecordedEvent: unsealed, snake_case, upcast.

    The hot path of reading the log: what depends only on the event type is
    looked up once per type (``_Decoding``), and the event is built straight
    into its __dict__ (see :func:`recorded_event`) without the keyword-argument call.
    """
    (position, event_id, stream_id, stream_type, version, type_, schema_version, text,
     actor_id, correlation_id, causation_id, recorded_at, key) = row
    data, schema_version = _data(type_, schema_version, text, key)
    if isinstance(recorded_at, str):  # a raw SQLite row, not read through UtcDateTime
        recorded_at = _instant(recorded_at)
    event = _new(RecordedEvent)
    event.__dict__.update({
        "event_id": parse_uuid(event_id),
        "position": position,
        "stream_id": stream_id,
        "stream_type": stream_type,
        "version": version,
        "type": type_,
        "schema_version": schema_version,
        "data": data,
        "recorded_at": recorded_at,
        "actor_id": actor_id,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
    })
    return event


def domain_events(
    rows: Sequence[Sequence[Any]], *, after_version: int = 0, offset: int = 0
) -> tuple[list[DomainEvent], RecordedEvent | None]:
    """For loading an aggregate: the domain events of rows past ``after_version``, and the
    last row as a RecordedEvent (its version, position and recorded_at), or None.

    Equal to ``[r.to_domain() for r in map(recorded, rows) if r.version > after_version]``
    but each event is built straight from its stored JSON: no RecordedEvent, event id
    or instant per row, which were about half the decoding of a 1 000-event load.
    ``offset`` skips leading columns a query put before those of :data:`SELECT_RECORDED`.
    """
    version_at, type_at, key_at = offset + 4, offset + 5, offset + 12
    events = [
        from_data(row[type_at], _data(row[type_at], row[type_at + 1], row[type_at + 2],
                                      row[key_at])[0])
        for row in rows
        if row[version_at] > after_version
    ]
    return events, recorded(rows[-1][offset:]) if rows else None
