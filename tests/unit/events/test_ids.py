"""Event ids made a stream's worth at a time are the same kind as those made one by one."""

from __future__ import annotations

import uuid

from events.ids import event_id_texts, parse_uuid


def test_event_id_texts_are_canonical_version_7_uuids_of_their_millisecond() -> None:
    made = event_id_texts(1_764_300_000_000, 2_000)
    later = event_id_texts(1_764_300_000_001, 3)

    parsed = [uuid.UUID(text) for text in made]
    assert len(set(made)) == 2_000
    assert [str(u) for u in parsed] == made
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert all(u.int >> 80 == 1_764_300_000_000 for u in parsed)
    assert {u.int >> 62 & 0b11 for u in parsed} == {0b10}
    assert max(made) < min(later)
    assert all(parse_uuid(text) == u for text, u in zip(made, parsed, strict=True))
    # the random bits take every value: none is stuck
    assert len({(u.int >> 64) & 0xFFF for u in parsed}) > 1_000
    assert {u.int & 1 for u in parsed} == {0, 1}
    assert event_id_texts(1, 0) == []
