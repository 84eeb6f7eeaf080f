"""Upcasters: stored old schema versions become the current one on read.

Stored rows are never rewritten. Each upcaster lifts snake_case data of one
event type by one schema version; :func:`upcast` chains them up to the
version the catalog writes today.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        assert (event_type, from_version) not in UPCASTERS, f"{event_type} v{from_version} twice"
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def upcast(
    event_type: str, schema_version: int, target: int, data: dict[str, Any]
) -> dict[str, Any]:
    """``data`` stored at ``schema_version``, lifted to ``target``."""
    version = schema_version
    while version < target:
        try:
            step = UPCASTERS[(event_type, version)]
        except KeyError:
            raise LookupError(f"no upcaster for {event_type} v{version}") from None
        data = step(data)
        version += 1
    return data


@upcaster("PostCreated", 1)
def post_created_gains_tags(data: dict[str, Any]) -> dict[str, Any]:
    """v1 posts had no tags; v2 always carries a (possibly empty) list."""
    return {**data, "tags": []}
