"""eventTypes: the catalogue, with a JSON Schema of each type's data as served.

The schema is derived from the event dataclass itself, so it cannot drift from
what the log stores: camelCase keys, secret fields left out (they are never
served), owner-only fields nullable (they are null for other callers).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any

from events.catalog import CATALOG, EventSpec
from resolvers.redaction import camel

_SCALARS: dict[Any, str] = {str: "string", int: "integer", bool: "boolean", float: "number"}


@dataclass(frozen=True)
class EventTypeInfo:
    name: str
    stream_type: str
    schema_version: int
    data_schema: dict[str, Any]


def _json_type(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _json_type(members[0]) if len(members) == 1 else {}
        return _nullable(inner) if type(None) in typing.get_args(hint) else inner
    if origin in (tuple, list):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return {"type": "array", "items": _json_type(args[0]) if args else {}}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    return {}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return schema


def data_schema(spec: EventSpec) -> dict[str, Any]:
    hints = typing.get_type_hints(spec.cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in dataclasses.fields(spec.cls):  # type: ignore[arg-type]
        if field.name in spec.secret:
            continue
        schema = _json_type(hints[field.name])
        # Owner-only fields are null for others; personal ones once their owner is forgotten.
        if field.name in spec.owner_only or field.name in spec.personal:
            schema = _nullable(schema)
        properties[camel(field.name)] = schema
        required.append(camel(field.name))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": spec.name,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def event_types() -> list[EventTypeInfo]:
    return [
        EventTypeInfo(spec.name, spec.stream_type, spec.schema_version, data_schema(spec))
        for spec in sorted(CATALOG.values(), key=lambda s: (s.stream_type, s.name))
    ]
