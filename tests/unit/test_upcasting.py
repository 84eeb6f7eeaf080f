"""Upcasters lift stored old schema versions to the current one, on read only."""

from __future__ import annotations

from typing import Any

import pytest

from events.catalog import PostCreated
from events.shapes import from_data
from events.upcasting import UPCASTERS, upcast


def test_a_version_one_post_gains_an_empty_tag_list() -> None:
    v1 = {"post_id": "p", "author_id": "u", "title": "t", "body": "b"}

    v2 = upcast("PostCreated", 1, 2, v1)

    assert v2 == {**v1, "tags": []}
    assert from_data("PostCreated", v2) == PostCreated("p", "u", "t", "b", ())
    assert "tags" not in v1, "the stored shape is never changed"


def test_data_already_at_the_target_version_is_left_alone() -> None:
    current = {"post_id": "p", "author_id": "u", "title": "t", "body": "b", "tags": ["x"]}

    assert upcast("PostCreated", 2, 2, current) is current


def test_upcasters_chain_one_version_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "steps": [*data["steps"], 2]}

    def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "steps": [*data["steps"], 3]}

    monkeypatch.setitem(UPCASTERS, ("Imaginary", 1), v1_to_v2)
    monkeypatch.setitem(UPCASTERS, ("Imaginary", 2), v2_to_v3)

    assert upcast("Imaginary", 1, 3, {"steps": [1]}) == {"steps": [1, 2, 3]}


def test_a_missing_step_is_an_error_not_silently_old_data() -> None:
    with pytest.raises(LookupError, match="Imaginary v1"):
        upcast("Imaginary", 1, 2, {})
