"""Dead-letter storage of the projections: events a projection parked instead of applying.

See ``projections/dead_letters.py``: one row per parked event and generation,
with the error, the attempts, and the sequences it blocks while parked.

Revision ID: 0004_dead_letters
Revises: 0003_no_stream_time_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_dead_letters"
down_revision = "0003_no_stream_time_index"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True).with_variant(sa.Text(), "sqlite")
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "projection_dead_letters",
        sa.Column("projection", sa.String, primary_key=True),
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("position", POSITION, primary_key=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("stream_id", sa.String, nullable=False),
        sa.Column("event_type", sa.String, nullable=False),
        sa.Column("error_class", sa.String, nullable=False),
        sa.Column("error_message", sa.Text, nullable=False),
        sa.Column("held_by", POSITION),
        sa.Column("sequences", sa.Text, nullable=False),
        sa.Column("first_failed_at", INSTANT, nullable=False),
        sa.Column("last_failed_at", INSTANT, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("retry_requested", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projection_dead_letters")
