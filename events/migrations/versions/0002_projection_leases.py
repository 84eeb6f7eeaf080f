"""Projection bookkeeping the runner needs beyond checkpoints: generations and leases.

``projection_generations`` records every generation of a projection's tables
and the table shape (schema version) it was built with: a generation newer
than the live one is a rebuild in progress (or requested), so any process can
ask for a rebuild and the lease holder carries it out. ``projection_leases``
makes exactly one process apply each projection at a time.

Revision ID: 0002_projection_leases
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_projection_leases"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "projection_generations",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
    )
    op.create_table(
        "projection_leases",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("owner", sa.String, nullable=False),
        # milliseconds since the epoch: compares the same way on both backends
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projection_leases")
    op.drop_table("projection_generations")
