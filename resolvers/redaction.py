"""Event data as it may leave the server, per event type (docs/architecture.md, Security).

Secret fields (password hashes) never leave; owner-only fields (email) go to
the subject user and to admins only. Personal fields of forgotten users are
already None from the store (their key is destroyed). Keys become camelCase.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.ports import Actor
from events.catalog import CATALOG, EventSpec
from events.model import RecordedEvent


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class ServedEvent:
    """One event as a caller may see it."""

    id: str
    position: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    occurred_at: datetime
    actor_id: str | None
    correlation_id: str | None
    causation_id: str | None
    renderings: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What the GraphQL layer made of this very object, for every subscriber it is shared by."""


def _subject_of(spec: EventSpec, data: dict[str, Any]) -> str | None:
    field = spec.subject or ("user_id" if "user_id" in data else None)
    value = data.get(field) if field else None
    return value if isinstance(value, str) else None


def sees_owner_fields(recorded: RecordedEvent, viewer: Actor | None) -> bool:
    """The viewer's class for this event: owner view (admins, the subject) or not."""
    if viewer is None:
        return False
    if viewer.is_admin:
        return True
    spec = CATALOG.get(recorded.type)
    return spec is not None and viewer.user_id == _subject_of(spec, recorded.data)


def redact_data(
    spec: EventSpec | None, data: dict[str, Any], viewer: Actor | None
) -> dict[str, Any]:
    may_see_owner_only = viewer is not None and spec is not None and (
        viewer.is_admin or viewer.user_id == _subject_of(spec, data)
    )
    return _redacted(spec, data, may_see_owner_only)


def _redacted(spec: EventSpec | None, data: dict[str, Any], owner_view: bool) -> dict[str, Any]:
    if spec is None:
        # An event type the catalogue does not know: serve nothing rather than guess.
        return {}
    served: dict[str, Any] = {}
    for key, value in data.items():
        if key in spec.secret:
            continue
        if key in spec.owner_only and not owner_view:
            value = None
        served[camel(key)] = value
    return served


def serve(recorded: RecordedEvent, viewer: Actor | None) -> ServedEvent:
    return serve_as(recorded, owner_view=sees_owner_fields(recorded, viewer))


def serve_as(recorded: RecordedEvent, *, owner_view: bool) -> ServedEvent:
    """The event for one visibility class: every viewer of that class gets this same value."""
    return ServedEvent(
        id=str(recorded.event_id),
        position=recorded.position,
        stream_id=recorded.stream_id,
        stream_type=recorded.stream_type,
        version=recorded.version,
        type=recorded.type,
        schema_version=recorded.schema_version,
        data=_redacted(CATALOG.get(recorded.type), recorded.data, owner_view),
        occurred_at=recorded.recorded_at,
        actor_id=recorded.actor_id,
        correlation_id=recorded.correlation_id,
        causation_id=recorded.causation_id,
    )
