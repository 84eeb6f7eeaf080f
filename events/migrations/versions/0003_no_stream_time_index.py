"""Drop ``ix_events_stream_recorded_at``: every append paid for it, one query used it.

Only ``version_at`` (time travel to an instant) read it. Each appended event
added an entry keyed by its stream id, a random key for new streams, so the
index dirtied pages all over its tree and every commit wrote (and synced) them:
on SQLite (synchronous=FULL), batches of 100 events went from 18 000-19 000
to 24 000-27 500 events/s without it, and 32 callers' single-event commits from
4 100-5 400 to 5 200-6 700/s (three runs each, on one machine).
``version_at`` now walks the stream's ``(stream_id, version)`` index from its
newest event back to the instant, so its cost is the number of the stream's
events recorded after that instant.

Revision ID: 0003_no_stream_time_index
Revises: 0002_projection_leases
"""

from __future__ import annotations

from alembic import op

revision = "0003_no_stream_time_index"
down_revision = "0002_projection_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_events_stream_recorded_at", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_stream_recorded_at", "events", ["stream_id", "recorded_at"])
