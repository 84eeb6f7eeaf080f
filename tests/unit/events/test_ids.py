"""Event ids made a stream's worth at a time are the same kind as those made one by one."""

from __future__ import annotations

import uuid

from events.ids import event_ids


def test_event_ids_made_together_are_distinct_version_7_uuids_of_their_millisecond() -> None:
    made = event_ids(1_764_300_000_000, 500)
    later = event_ids(1_764_300_000_001, 3)

    assert len(set(made)) == 500
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in [*made, *later])
    assert all(u.int >> 80 == 1_764_300_000_000 for u in made)
    assert max(map(str, made)) < min(map(str, later))
    assert all(uuid.UUID(str(u)) == u and hash(uuid.UUID(str(u))) == hash(u) for u in made)
    assert event_ids(1, 0) == []
