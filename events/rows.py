"""Domain events to stored rows and back.

Writing: snake_case fields become camelCase JSON, personal fields sealed with
the subject's key. Reading: one SELECT brings each row with its subject's key
(NULL once shredded); fields are unsealed, renamed back and upcast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Final
from uuid import UUID, SafeUUID

import orjson

from events import crypto
from events.catalog import CATALOG, DomainEvent, fields_of, from_data
from events.ids import parse_uuid
from events.model import RecordedEvent
from events.serialization import camel, dumps, snake
from events.upcasting import upcast

_new = object.__new__
_set = object.__setattr__
_UNKNOWN_SAFETY = SafeUUID.unknown


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
    plain, stored = _ENCODERS[spec.cls](event)
    personal = spec.personal and {name for name in spec.personal if plain.get(name) is not None}
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
    """``stored_data(event, key_for)[:2]``: the JSON to store and the subject whose key
    sealed it, for the append path, which needs no plain data. Events of a type
    without personal fields (most of them) are dumped by a function made for the
    class, straight from their attributes: no plain dict, no renamed copy."""
    spec = event.spec
    if spec.personal:
        text, subject, _ = stored_data(event, key_for)
        return text, subject
    return _TEXT_ENCODERS[spec.cls](event), None


def plain_data(event: DomainEvent) -> dict[str, Any]:
    """The plain snake_case data of ``event`` as :func:`stored_data` returns it."""
    return _ENCODERS[type(event)](event)[0]


Encoder = Callable[[DomainEvent], tuple[dict[str, Any], dict[str, Any]]]


def _encoder(cls: type[DomainEvent]) -> Encoder:
    """``data_of(event)`` and the same values under their stored camelCase names, both
    in field order, by a function made for the class (see :func:`_builder` for why):
    every appended event goes through it, on the writer's thread."""
    shape = fields_of(cls)
    assert all(name.isidentifier() for name in shape.fields)
    fields = [(f"v{i}", name) for i, name in enumerate(shape.fields)]
    source = [
        "def encode(event):",
        *(f"    {v} = event.{name}" for v, name in fields),
        *(f"    if isinstance({v}, tuple):\n        {v} = list({v})" for v, _ in fields),
        f"    return {{{', '.join(f'{name!r}: {v}' for v, name in fields)}}}, "
        f"{{{', '.join(f'{camel(name)!r}: {v}' for v, name in fields)}}}",
    ]
    namespace: dict[str, Any] = {}
    exec("\n".join(source), namespace)  # the source is built above from identifiers only
    encode: Encoder = namespace["encode"]
    return encode


class _Encoders(dict[type[DomainEvent], Encoder]):
    def __missing__(self, cls: type[DomainEvent]) -> Encoder:
        self[cls] = encoder = _encoder(cls)
        return encoder


_ENCODERS = _Encoders()


def _text_encoder(cls: type[DomainEvent]) -> Callable[[DomainEvent], str]:
    """``dumps(_encoder(cls)(event)[1])`` in one generated function: the stored camelCase
    JSON of an event without personal fields. orjson writes a tuple as the same
    array as the list the general encoder makes of it."""
    shape = fields_of(cls)
    assert all(name.isidentifier() for name in shape.fields)
    items = ", ".join(f"{camel(name)!r}: event.{name}" for name in shape.fields)
    source = f"def encode(event):\n    return _dumps({{{items}}}).decode()"
    namespace: dict[str, Any] = {"_dumps": orjson.dumps}
    exec(source, namespace)  # the source is built above from identifiers only
    encode: Callable[[DomainEvent], str] = namespace["encode"]
    return encode


class _TextEncoders(dict[type[DomainEvent], Callable[[DomainEvent], str]]):
    def __missing__(self, cls: type[DomainEvent]) -> Callable[[DomainEvent], str]:
        self[cls] = encoder = _text_encoder(cls)
        return encoder


_TEXT_ENCODERS = _TextEncoders()


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
    """Rows of PostgreSQL's aggregate load (``events.store._load_sql``): behind ``offset``
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
object per row, a fifth of reading a 1 000-event tail."""


def tail_events(rows: Sequence[Sequence[Any]]) -> list[DomainEvent]:
    """Rows of :data:`TAIL_SQL` as domain events."""
    return [domain_event(type_, schema_version, text, key)
            for type_, schema_version, text, key in rows]


def instant_of(value: str | datetime) -> datetime:
    """A recorded_at as read: ISO text from a raw SQLite row, else the datetime itself."""
    return _instant(value) if isinstance(value, str) else value


class _Decoding:
    """What decoding a row of one event type needs, worked out once per type."""

    __slots__ = ("build", "personal", "read", "schema_version")

    def __init__(self, event_type: str) -> None:
        spec = CATALOG.get(event_type)
        self.personal: tuple[tuple[str, str], ...] = (
            tuple((name, camel(name)) for name in spec.personal) if spec is not None else ()
        )
        """(snake_case, stored camelCase) names of the personal fields to unseal."""
        self.schema_version = spec.schema_version if spec is not None else 0
        """The version rows are upcast to; 0 for a type the catalog no longer knows (as stored)."""
        self.build = _builder(spec.cls) if spec is not None else None
        """Stored (camelCase) data at ``schema_version`` -> the domain event, or None when
        the data has other keys than exactly the class's fields (left to the general path)."""
        self.read = _reader(event_type, spec.cls, spec.personal) if spec is not None else None
        """(stored data at ``schema_version``, subject's key) -> unsealed snake_case data,
        or None when the data has other keys than exactly the class's fields."""


def _picking(fields: list[tuple[str, str]]) -> list[str]:
    """Generated lines shared by :func:`_reader` and :func:`_builder`: bind each field's
    stored (camelCase) value to its local ``v<i>``, or return None from the generated
    function when the stored data has any other shape."""
    return [
        f"    if len(stored) != {len(fields)}:",
        "        return None",
        "    try:",
        *(f"        {v} = stored[{camel(name)!r}]" for v, name in fields),
        "    except KeyError:",
        "        return None",
    ]


def _reader(
    event_type: str, cls: type[DomainEvent], personal: tuple[str, ...]
) -> Callable[[dict[str, Any], bytes | None], dict[str, Any] | None]:
    """The fast path of ``_renamed(..., _unsealed(...))`` for rows of one event type
    written at its current schema version: the snake_case data, unsealed, in one
    dict display from values picked by their stored names (as :func:`_builder` does
    for domain events). Renaming key by key through ``_SNAKE`` cost about a third of
    decoding a rebuild's batch."""
    shape = fields_of(cls)
    assert event_type.isidentifier() and all(name.isidentifier() for name in shape.fields)
    fields = [(f"v{i}", name) for i, name in enumerate(shape.fields)]
    source = [
        "def read(stored, key):",
        *_picking(fields),
        *(f"    if {v} is not None:\n        {v} = _unseal(key, {event_type!r}, {name!r}, {v})"
          for v, name in fields if name in personal),
        f"    return {{{', '.join(f'{name!r}: {v}' for v, name in fields)}}}",
    ]
    namespace: dict[str, Any] = {"_unseal": crypto.unseal}
    exec("\n".join(source), namespace)  # the source is built above from identifiers only
    read: Callable[[dict[str, Any], bytes | None], dict[str, Any] | None] = namespace["read"]
    return read


def _builder(cls: type[DomainEvent]) -> Callable[[dict[str, Any]], DomainEvent | None]:
    """The fast path of ``from_data(name, {snake(k): v ...})`` for one event class.

    Rows written by this version of the code hold exactly the class's fields
    under their camelCase names. For those, a function made for the class
    (like dataclasses and namedtuple make their __init__, and from names that
    are identifiers) picks each value by its stored name and fills the new
    instance's __dict__ in one keyword call: no renamed intermediate dict, no
    defaults merge and none of the checks data of any other shape needs. That
    was about two thirds of decoding a 1 000-event load; a loop over the
    fields, or zip(), costs twice as much per event as the unrolled code.
    """
    shape = fields_of(cls)
    assert all(name.isidentifier() for name in shape.fields)
    fields = [(f"v{i}", name) for i, name in enumerate(shape.fields)]
    source = [
        "def build(stored):",
        *_picking(fields),
        *(f"    if {v}.__class__ is list:\n        {v} = tuple({v})"
          for v, name in fields if name in shape.sequences),
        "    event = _new(cls)",
        f"    event.__dict__.update({', '.join(f'{name}={v}' for v, name in fields)})",
        "    return event",
    ]
    namespace: dict[str, Any] = {"_new": _new, "cls": cls}
    exec("\n".join(source), namespace)  # the source is built above from identifiers only
    build: Callable[[dict[str, Any]], DomainEvent | None] = namespace["build"]
    return build


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
    decoding = _DECODINGS[type_]
    return _renamed(type_, schema_version, _unsealed(decoding, type_, text, key), decoding)


def _unsealed(decoding: _Decoding, type_: str, text: str, key: bytes | None) -> dict[str, Any]:
    stored: dict[str, Any] = orjson.loads(text)
    if decoding.personal:  # types without personal fields skip the crypto
        _unseal(decoding, type_, stored, key)
    return stored


def _unseal(decoding: _Decoding, type_: str, stored: dict[str, Any], key: bytes | None) -> None:
    for name, field in decoding.personal:
        if stored.get(field) is not None:
            stored[field] = crypto.unseal(key, type_, name, stored[field])


def _renamed(
    type_: str, schema_version: int, stored: dict[str, Any], decoding: _Decoding
) -> tuple[dict[str, Any], int]:
    data = {_SNAKE[k]: v for k, v in stored.items()}
    if schema_version < decoding.schema_version:
        data = upcast(type_, schema_version, decoding.schema_version, data)
        schema_version = decoding.schema_version
    return data, schema_version


def domain_event(type_: str, schema_version: int, text: str, key: bytes | None) -> DomainEvent:
    """The domain event of a stored row: ``recorded(row).to_domain()`` without the
    RecordedEvent, and for current-shaped rows without the snake_case dict either."""
    decoding = _DECODINGS[type_]
    stored: dict[str, Any] = orjson.loads(text)
    if decoding.personal:
        _unseal(decoding, type_, stored, key)
    build = decoding.build
    if build is not None and schema_version == decoding.schema_version:
        event = build(stored)
        if event is not None:
            return event
    return from_data(type_, _renamed(type_, schema_version, stored, decoding)[0])


def recorded(row: Sequence[Any]) -> RecordedEvent:
    """A row of :data:`SELECT_RECORDED` as a RecordedEvent: unsealed, snake_case, upcast."""
    return recorded_all((row,))[0]


def recorded_all(rows: Iterable[Sequence[Any]]) -> list[RecordedEvent]:
    """Rows of :data:`SELECT_RECORDED` as RecordedEvents: unsealed, snake_case, upcast.

    The hot path of reading the log (a projection rebuild decodes every event):
    what depends only on the event type is looked up once per type
    (``_Decoding``), rows at the current schema version with exactly the type's
    fields are renamed by a function made for the type (``_Decoding.read``),
    and each event is built straight into its __dict__ (see
    :func:`recorded_event`), its id parsed inline (as :func:`parse_uuid`).
    """
    decodings, loads, new, set_ = _DECODINGS, orjson.loads, _new, _set
    uuid_class, safety = UUID, _UNKNOWN_SAFETY
    events: list[RecordedEvent] = []
    append = events.append
    last_text, last_instant = "", datetime.min
    for (position, event_id, stream_id, stream_type, version, type_, schema_version, text,
         actor_id, correlation_id, causation_id, recorded_at, key) in rows:
        decoding = decodings[type_]
        stored = loads(text)
        data = None
        if schema_version == decoding.schema_version:
            read = decoding.read
            if read is not None:
                data = read(stored, key)
        if data is None:
            if decoding.personal:
                _unseal(decoding, type_, stored, key)
            data, schema_version = _renamed(type_, schema_version, stored, decoding)
        if recorded_at.__class__ is str:  # a raw SQLite row, not read through UtcDateTime
            # the rows of one commit share their instant: parsed once per commit
            if recorded_at != last_text:
                last_text, last_instant = recorded_at, _instant(recorded_at)
            recorded_at = last_instant
        if event_id.__class__ is str:
            uid = new(uuid_class)
            set_(uid, "int", int(event_id.replace("-", ""), 16))
            set_(uid, "is_safe", safety)
        else:
            uid = parse_uuid(event_id)
        event = new(RecordedEvent)
        set_(event, "__dict__", {
            "event_id": uid,
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
        append(event)
    return events


def domain_events(
    rows: Sequence[Sequence[Any]], *, after_version: int = 0, offset: int = 0
) -> tuple[list[DomainEvent], RecordedEvent | None]:
    """For loading an aggregate: the domain events of rows past ``after_version``, and the
    last row as a RecordedEvent (its version, position and recorded_at), or None.

    Equal to ``[r.to_domain() for r in map(recorded, rows) if r.version > after_version]``
    but each event is built straight from its stored JSON (:func:`domain_event`).
    ``offset`` skips leading columns a query put before those of :data:`SELECT_RECORDED`.
    """
    version_at, type_at, key_at = offset + 4, offset + 5, offset + 12
    events = [
        domain_event(row[type_at], row[type_at + 1], row[type_at + 2], row[key_at])
        for row in rows
        if row[version_at] > after_version
    ]
    return events, recorded(rows[-1][offset:]) if rows else None
