"""The durable tables: the log, snapshots, claims, idempotency keys, subject keys,
projection checkpoints.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the types in events/tables.py: a migration must not change
# when the code does.
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INSTANT = sa.DateTime(timezone=True).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", POSITION, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("stream_id", sa.String, nullable=False),
        sa.Column("stream_type", sa.String, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.String, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("subject_id", sa.String),
        sa.Column("actor_id", sa.String),
        sa.Column("correlation_id", sa.String),
        sa.Column("causation_id", sa.String),
        sa.Column("recorded_at", INSTANT, nullable=False),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )
    op.create_index("ix_events_type_position", "events", ["type", "position"])
    op.create_index("ix_events_stream_recorded_at", "events", ["stream_id", "recorded_at"])

    op.create_table(
        "snapshots",
        sa.Column("stream_id", sa.String, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
    )
    op.create_table(
        "claims",
        sa.Column("scope", sa.String, primary_key=True),
        sa.Column("value", sa.String, primary_key=True),
        sa.Column("owner", sa.String, nullable=False),
    )
    op.create_table(
        "idempotency",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("position", POSITION, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
    )
    op.create_table(
        "subject_keys",
        sa.Column("subject_id", sa.String, primary_key=True),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
    )
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("position", POSITION, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
    )
    op.create_table(
        "projection_live",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "projection_live",
        "projection_checkpoints",
        "subject_keys",
        "idempotency",
        "claims",
        "snapshots",
        "events",
    ):
        op.drop_table(table)
