"""The per-class encoders and builders agree with the general conversions, for every event."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

from events.catalog import CATALOG, DomainEvent, data_of, from_data
from events.rows import domain_event, stored_data
from events.serialization import camel_keys, snake_keys


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


def test_stored_data_of_another_shape_takes_the_general_path() -> None:
    extra = '{"postId": "p", "title": "t", "body": null, "tags": ["x"], "later": 1}'
    missing = '{"postId": "p"}'

    assert domain_event("PostEdited", 1, extra, None) == from_data(
        "PostEdited", {"post_id": "p", "title": "t", "body": None, "tags": ("x",)})
    assert domain_event("PostEdited", 1, missing, None) == from_data(
        "PostEdited", {"post_id": "p"})
    with pytest.raises(TypeError):
        domain_event("PostEdited", 1, '{"title": "t", "body": null, "tags": null, "x": 1}', None)
