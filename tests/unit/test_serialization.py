"""Stored event data: camelCase JSON with personal fields sealed per user."""

from __future__ import annotations

import uuid

import pytest

from events import crypto
from events.catalog import PostCreated, ProfileUpdated, UserRegistered
from events.ids import event_id, parse_uuid
from events.rows import recorded, stored_data, stream_events
from events.serialization import camel, camel_keys, loads, snake, snake_keys


@pytest.mark.parametrize(
    ("python", "stored"),
    [("post_id", "postId"), ("display_name", "displayName"), ("from_version", "fromVersion"),
     ("body", "body")],
)
def test_field_names_are_camel_case_when_stored_and_snake_case_in_python(
    python: str, stored: str
) -> None:
    assert camel(python) == stored
    assert snake(stored) == python


def test_only_top_level_keys_are_renamed() -> None:
    data = {"post_id": "p", "tags": ["no_change"]}

    assert camel_keys(data) == {"postId": "p", "tags": ["no_change"]}
    assert snake_keys(camel_keys(data)) == data


def test_a_sealed_value_opens_only_with_its_key_event_type_and_field() -> None:
    key = crypto.new_key()

    sealed = crypto.seal(key, "UserRegistered", "email", "a@x.io")

    assert "a@x.io" not in sealed
    assert crypto.unseal(key, "UserRegistered", "email", sealed) == "a@x.io"
    assert crypto.unseal(key, "UserRegistered", "display_name", sealed) is None
    assert crypto.unseal(crypto.new_key(), "UserRegistered", "email", sealed) is None
    assert crypto.unseal(None, "UserRegistered", "email", sealed) is None


def test_sealing_the_same_value_twice_gives_different_ciphertexts() -> None:
    key = crypto.new_key()

    assert crypto.seal(key, "T", "f", "same") != crypto.seal(key, "T", "f", "same")


def test_personal_fields_are_sealed_with_the_subjects_key_and_the_rest_stays_plain() -> None:
    keys: dict[str, bytes] = {}
    event = UserRegistered("u1", "gus", "g@x.io", "Gus", "$argon2id$h")

    text, subject, plain = stored_data(event, lambda s: keys.setdefault(s, crypto.new_key()))

    stored = loads(text)
    assert subject == "u1" and list(keys) == ["u1"]
    assert stored["userId"] == "u1" and stored["username"] == "gus"
    assert stored["email"] != "g@x.io" and stored["displayName"] != "Gus"
    assert crypto.unseal(keys["u1"], "UserRegistered", "email", stored["email"]) == "g@x.io"
    assert plain["email"] == "g@x.io"


def test_unset_personal_fields_stay_null_and_need_no_ciphertext() -> None:
    def no_key(subject: str) -> bytes:
        raise AssertionError("nothing to seal: no key should be asked for")

    text, _, _ = stored_data(ProfileUpdated("u1", bio="hi"), lambda s: crypto.new_key())
    unchanged, subject, _ = stored_data(ProfileUpdated("u1"), no_key)

    stored = loads(text)
    assert stored["displayName"] is None and stored["bio"] != "hi"
    assert loads(unchanged) == {"userId": "u1", "displayName": None, "bio": None}
    assert subject is None


def test_personal_data_without_a_subject_is_refused_rather_than_stored_in_clear() -> None:
    nobody = UserRegistered("", "ivy", "i@x.io", "Ivy", "h")

    with pytest.raises(ValueError, match="personal data without a subject"):
        stored_data(nobody, lambda s: crypto.new_key())


def test_events_without_personal_data_need_no_key() -> None:
    def no_key(subject: str) -> bytes:
        raise AssertionError("no key should be asked for")

    text, subject, _ = stored_data(PostCreated("p", "u", "t", "b", ("x",)), no_key)

    assert subject is None
    assert loads(text) == {"postId": "p", "authorId": "u", "title": "t", "body": "b",
                           "tags": ["x"]}


def test_a_stored_row_reads_back_as_the_event_and_without_its_key_loses_personal_data() -> None:
    key = crypto.new_key()
    text, _, _ = stored_data(UserRegistered("u1", "hal", "h@x.io", "Hal", "h"), lambda s: key)
    row = (7, "00000000-0000-4000-8000-000000000007", "User-u1", "User", 1, "UserRegistered",
           1, text, "u1", "c", None, "2026-01-02T03:04:05.000006+00:00", key)

    readable = recorded(row)
    shredded = recorded((*row[:-1], None))

    assert readable.position == 7 and readable.recorded_at.tzinfo is not None
    assert readable.to_domain() == UserRegistered("u1", "hal", "h@x.io", "Hal", "h")
    assert shredded.data["email"] is None and shredded.data["display_name"] is None
    assert shredded.data["username"] == "hal"


def test_stored_event_ids_parse_to_the_same_uuid_as_the_standard_constructor() -> None:
    for _ in range(100):
        expected = uuid.uuid4()

        parsed = parse_uuid(str(expected))

        assert parsed == expected and hash(parsed) == hash(expected)
        assert str(parsed) == str(expected) and parsed.version == 4
        assert parsed.is_safe is uuid.SafeUUID.unknown


def test_event_ids_are_version_7_uuids_ordered_by_their_millisecond() -> None:
    earlier = [event_id(1_764_300_000_000) for _ in range(50)]
    later = [event_id(1_764_300_000_001) for _ in range(50)]

    assert len({*earlier, *later}) == 100
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in [*earlier, *later])
    assert max(map(str, earlier)) < min(map(str, later))
    assert uuid.UUID(str(earlier[0])) == earlier[0]


def test_stream_events_decode_rows_as_recorded_then_to_domain_would() -> None:
    key = crypto.new_key()
    at = "2026-01-02T03:04:05.000006+00:00"
    registered, _, _ = stored_data(UserRegistered("u1", "hal", "h@x.io", "Hal", "h"),
                                   lambda s: key)
    rows = [
        (1, str(uuid.uuid4()), "s", "User", 1, "UserRegistered", 1, registered, None, None,
         None, at, key),
        # schema v1 PostCreated (no tags): upcast on the way, as recorded() does
        (2, str(uuid.uuid4()), "s", "Post", 2, "PostCreated", 1,
         '{"postId": "p", "authorId": "u1", "title": "t", "body": "b"}', None, None, None,
         at, None),
        (3, str(uuid.uuid4()), "s", "User", 3, "ProfileUpdated", 1,
         stored_data(ProfileUpdated("u1", bio="hi"), lambda s: key)[0], "a", "c", None,
         "2026-01-02T03:04:06.000000+00:00", None),
    ]
    expected = [recorded(row) for row in rows]
    # as PostgreSQL's aggregate load returns them: version, type, schema_version, data,
    # key, position, recorded_at, behind two leading columns (the snapshot's)
    loaded = [("x", None, r[4], r[5], r[6], r[7], r[12], r[0], r[11]) for r in rows]

    for after in (0, 1, 3):
        events, last = stream_events(loaded, after_version=after, offset=2)

        assert events == [r.to_domain() for r in expected if r.version > after]
        assert last == (3, 3, rows[-1][11])
    assert events == [] and stream_events([]) == ([], None)
    assert stream_events(loaded, offset=2)[0][1] == PostCreated("p", "u1", "t", "b", ())
