"""Domain events to plain data and back, at the rate a load or a rebuild needs.

Each event class's shape (its fields in order, their defaults, which may hold
tuples) is computed once, so turning an event into snake_case data
(:func:`data_of`) or data at its current schema version into an event
(:func:`from_data`) costs no ``dataclasses.fields()`` per call.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from events.catalog import DomainEvent, spec_of


def data_of(event: DomainEvent) -> dict[str, Any]:
    """The event's fields as a JSON-ready dict with snake_case keys (tuples become lists).

    Called for every event appended: the field names come from the class's
    shape, computed once, instead of dataclasses.fields() per call.
    """
    shape = _shape(type(event))
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in zip(shape.fields, shape.values(event), strict=True)
    }


@dataclass(frozen=True)
class _Shape:
    cls: type[DomainEvent]
    fields: tuple[str, ...]
    """Field names in declaration order."""
    values: Callable[[DomainEvent], tuple[Any, ...]]
    """The fields' values in that order."""
    defaults: dict[str, Any]
    required: frozenset[str]
    names: frozenset[str]
    sequences: tuple[str, ...]
    """Fields that may hold a tuple (stored as JSON lists)."""


_SHAPES: dict[type[DomainEvent], _Shape] = {}
_SHAPES_BY_NAME: dict[str, _Shape] = {}
"""The same shapes by event type name: one lookup per event rebuilt on a load."""


def fields_of(cls: type[DomainEvent]) -> _Shape:
    """The shape of an event class (field names in order, which may hold tuples, ...)."""
    return _shape(cls)


def _shape(cls: type[DomainEvent]) -> _Shape:
    shape = _SHAPES.get(cls)
    if shape is None:
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        ordered = tuple(f.name for f in fields)
        defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
        names = frozenset(ordered)
        sequences = tuple(f.name for f in fields if "tuple" in str(f.type))
        # attrgetter of one name returns the bare value, of several a tuple
        getter = operator.attrgetter(*ordered) if ordered else (lambda _event: ())
        values = getter if len(ordered) != 1 else (lambda event: (getter(event),))
        shape = _SHAPES[cls] = _Shape(
            cls, ordered, values, defaults, names - defaults.keys(), names, sequences
        )
    return shape


def from_data(name: str, data: dict[str, Any]) -> DomainEvent:
    """Rebuild an event from snake_case data at its current schema version.

    Events are rebuilt on every aggregate load, a thousand at a time: the
    frozen dataclass's __init__ (one object.__setattr__ per field) and
    dataclasses.fields() per call cost more than the whole fold, so the
    instance's __dict__ is filled directly from a shape computed once per class.
    """
    shape = _SHAPES_BY_NAME.get(name)
    if shape is None:
        shape = _SHAPES_BY_NAME[name] = _shape(spec_of(name).cls)
    if not shape.required <= data.keys():
        raise TypeError(f"{name} is missing {sorted(shape.required - data.keys())}")
    values = {**shape.defaults, **data}
    # values holds every field already (defaults + the required ones checked
    # above), so any key beyond the field count is one the class does not know
    if len(values) != len(shape.names):
        values = {k: v for k, v in values.items() if k in shape.names}
    for key in shape.sequences:
        if isinstance(value := values[key], list):
            values[key] = tuple(value)
    event = object.__new__(shape.cls)
    event.__dict__.update(values)
    return event
