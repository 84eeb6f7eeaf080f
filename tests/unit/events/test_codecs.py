"""Events convert to stored rows and back as the general conversions would, for every event."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import orjson
import pytest

from events import crypto
from events.catalog import CATALOG, DomainEvent
from events.rows import (
    domain_event,
    plain_data,
    recorded,
    recorded_all,
    stored_data,
    stored_text,
)
from events.serialization import camel_keys, snake_keys
from events.shapes import data_of, from_data


def sample(cls: type[DomainEvent]) -> DomainEvent:
    values: dict[str, Any] = {}
    for i, field in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type]
        kind = str(field.type)
        values[field.name] = (
            ("a", "b") if "tuple" in kind else i if kind.startswith("int") else f"{field.name}-{i}"
        )
    return cls(**values)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_an_event_stores_and_reads_back_as_the_general_conversions_would(name: str) -> None:
    spec = CATALOG[name]
    event = sample(spec.cls)
    key = b"k" * 32

    text, subject, plain = stored_data(event, lambda _subject: key)

    assert plain == data_of(event) and list(plain) == list(data_of(event))
    stored = orjson.loads(text)
    if not spec.personal:
        assert stored == camel_keys(data_of(event)) and subject is None
    assert domain_event(name, spec.schema_version, text, key) == event
    assert domain_event(name, spec.schema_version, text, key) == from_data(
        name, {**snake_keys(stored), **{n: plain[n] for n in spec.personal}}
    )


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_the_append_path_stores_what_stored_data_stores(name: str) -> None:
    spec = CATALOG[name]
    event = sample(spec.cls)
    key = b"k" * 32

    text, subject = stored_text(event, lambda _subject: key)

    general, general_subject, plain = stored_data(event, lambda _subject: key)
    assert subject == general_subject
    if not spec.personal:  # sealed fields differ by their random nonce
        assert text == general
    assert domain_event(name, spec.schema_version, text, key) == event
    assert plain_data(event) == plain and list(plain_data(event)) == list(plain)


def test_stored_data_of_another_shape_reads_as_from_data_would() -> None:
    extra = '{"postId": "p", "title": "t", "body": null, "tags": ["x"], "later": 1}'
    missing = '{"postId": "p"}'

    assert domain_event("PostEdited", 1, extra, None) == from_data(
        "PostEdited", {"post_id": "p", "title": "t", "body": None, "tags": ("x",)})
    assert domain_event("PostEdited", 1, missing, None) == from_data(
        "PostEdited", {"post_id": "p"})
    with pytest.raises(TypeError):
        domain_event("PostEdited", 1, '{"title": "t", "body": null, "tags": null, "x": 1}', None)


def _row(
    name: str, schema_version: int, text: str, key: bytes | None, position: int = 1
) -> tuple[Any, ...]:
    return (position, "01890a5d-ac96-774b-bcce-b302099a8057", f"s-{position}", "S", 1, name,
            schema_version, text, "actor", None, None, "2024-05-01 10:00:00+00:00", key)


def _general(name: str, text: str, key: bytes | None) -> dict[str, Any]:
    """Unseal the personal fields and rename key by key (rows at the current version)."""
    stored = snake_keys(orjson.loads(text))
    for field in CATALOG[name].personal:
        if stored.get(field) is not None:
            stored[field] = crypto.unseal(key, name, field, stored[field])
    return stored


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_recorded_rows_carry_the_data_of_the_general_conversions(name: str) -> None:
    """Reading rows (a rebuild's hot path) unseals and renames as the general
    conversions do; shredded personal fields read as None."""
    spec = CATALOG[name]
    key = b"k" * 32
    text, _, plain = stored_data(sample(spec.cls), lambda _subject: key)

    for k in (key, None):
        [event] = recorded_all([_row(name, spec.schema_version, text, k)])
        assert event.data == _general(name, text, k)
        assert list(event.data) == list(plain)
        assert event.schema_version == spec.schema_version
        if k is None:
            assert all(event.data[n] is None for n in spec.personal)
        else:
            assert event.data == {n: list(v) if isinstance(v, tuple) else v
                                  for n, v in plain.items()}
        assert event == recorded(_row(name, spec.schema_version, text, k))


def test_recorded_rows_of_another_shape_an_older_version_or_an_unknown_type_read_back() -> None:
    extra = '{"postId": "p", "title": "t", "body": null, "tags": ["x"], "later": 1}'
    old = '{"postId": "p", "authorId": "u", "title": "t", "body": "b"}'  # v1: no tags
    events = recorded_all([_row("PostEdited", 1, extra, None, 1),
                           _row("PostCreated", 1, old, None, 2),
                           _row("NoLongerKnown", 3, '{"someField": 1}', None, 3)])

    assert [e.data for e in events] == [
        {"post_id": "p", "title": "t", "body": None, "tags": ["x"], "later": 1},
        {"post_id": "p", "author_id": "u", "title": "t", "body": "b", "tags": []},
        {"some_field": 1},
    ]
    assert [e.schema_version for e in events] == [1, CATALOG["PostCreated"].schema_version, 3]
    assert events[0].event_id == uuid.UUID("01890a5d-ac96-774b-bcce-b302099a8057")
    assert events[2].recorded_at.tzinfo is not None
