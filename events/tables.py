"""The durable tables, as SQLAlchemy Core objects for queries.

Their DDL lives in the Alembic migrations (``events/migrations/versions``),
which are frozen history; these objects mirror the current head and are what
the store and the projection runner query with.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

POSITION = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit on PostgreSQL; INTEGER on SQLite so ``position`` is the rowid itself."""


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC instant: TIMESTAMPTZ on PostgreSQL, fixed-width ISO text on SQLite.

    SQLite has no date type and SQLAlchemy's default storage drops the zone;
    a fixed-width ``…+00:00`` string keeps the zone and still compares in time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return to_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        return datetime.fromisoformat(value)


def to_text(instant: datetime) -> str:
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


metadata = MetaData()

events = Table(
    "events", metadata,
    Column("position", POSITION, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String, nullable=False),
    Column("stream_type", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String, nullable=False),
    Column("schema_version", Integer, nullable=False),
    # camelCase JSON; personal fields are AES-GCM ciphertext
    Column("data", Text, nullable=False),
    # whose key encrypts the personal fields (NULL when there are none): lets
    # reads join the key in the same query, so a shred is seen at once everywhere
    Column("subject_id", String),
    Column("actor_id", String),
    Column("correlation_id", String),
    Column("causation_id", String),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    Index("ix_events_type_position", "type", "position"),
)

snapshots = Table(
    "snapshots", metadata,
    Column("stream_id", String, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("schema_version", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

claims = Table(
    "claims", metadata,
    Column("scope", String, primary_key=True),
    Column("value", String, primary_key=True),
    Column("owner", String, nullable=False),
)

idempotency = Table(
    "idempotency", metadata,
    Column("key", String, primary_key=True),
    Column("result", Text, nullable=False),
    Column("position", POSITION, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

subject_keys = Table(
    "subject_keys", metadata,
    Column("subject_id", String, primary_key=True),
    Column("key", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

projection_checkpoints = Table(
    "projection_checkpoints", metadata,
    Column("name", String, primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("position", POSITION, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

projection_live = Table(
    "projection_live", metadata,
    Column("name", String, primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
