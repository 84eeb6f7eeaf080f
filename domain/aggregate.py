"""One aggregate style for all: a frozen State, ``evolve`` folding events, and a snapshot codec.

Decide functions live beside each aggregate (``(command, state, ...) -> list[event]``);
this module only describes what the repository needs to load and snapshot any of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from events.catalog import DomainEvent

S = TypeVar("S")


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """How to rebuild one kind of aggregate from its stream (and from snapshots)."""

    stream_type: str
    initial: S
    evolve: Callable[[S, DomainEvent], S]
    to_snapshot: Callable[[S], dict[str, Any]]
    from_snapshot: Callable[[dict[str, Any]], S]
    snapshot_version: int = 1
    """Bumped whenever the snapshot shape changes: older snapshots are then ignored, not misread."""

    def fold(self, state: S, events: list[DomainEvent]) -> S:
        for event in events:
            state = self.evolve(state, event)
        return state


def evolved(state: S, **changes: Any) -> S:
    """``dataclasses.replace`` for the flat, frozen states of this package, without its cost.

    Folding calls this once per event; ``replace`` re-runs the frozen __init__
    (one object.__setattr__ per field) and inspects the fields on every call,
    which made it most of an aggregate load. States have no __post_init__ and
    no slots, so copying the instance dict is equivalent.
    """
    copy = object.__new__(type(state))
    copy.__dict__.update(state.__dict__)
    copy.__dict__.update(changes)
    return copy


def plain_snapshot(state: object) -> dict[str, Any]:
    """A flat dataclass state as a JSON-ready dict (tuples become lists)."""
    return {
        f.name: list(v) if isinstance(v := getattr(state, f.name), tuple) else v
        for f in dataclasses.fields(state)  # type: ignore[arg-type]
    }


def plain_restore(cls: type[S]) -> Callable[[dict[str, Any]], S]:
    """The inverse of :func:`plain_snapshot` for ``cls`` (its tuple fields' lists become
    tuples again; fields a snapshot lacks take their defaults)."""
    # Once, not per restore: dataclasses.fields() showed in a snapshotted load's profile.
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = tuple(f.name for f in fields)
    tuples = tuple(f.name for f in fields if str(f.type).startswith("tuple"))

    def restore(data: dict[str, Any]) -> S:
        values = {name: data[name] for name in names if name in data}
        for name in tuples:
            if name in values:
                values[name] = tuple(values[name])
        if len(values) < len(names):
            return cls(**values)  # the missing fields' defaults come from __init__
        # Every field given: filled as ``evolved`` copies, without the frozen
        # __init__'s object.__setattr__ per field (most of restoring a snapshot).
        made = object.__new__(cls)
        made.__dict__.update(values)
        return made

    return restore
