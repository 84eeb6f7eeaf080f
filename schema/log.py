"""The log as the contract serves it: recorded events, their pages, and the catalogue of types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.pagination import Page
from resolvers.redaction import ServedEvent
from schema.base import PageInfo
from schema.scalars import JSON, Position


@strawberry.type(
    description=(
        "One recorded domain event. `data` never contains secrets (password hashes,\n"
        "tokens) and shows personal data (email) only to its owner and to admins."
    )
)
class Event:
    id: strawberry.ID
    position: Position
    stream_id: strawberry.ID
    stream_type: str = strawberry.field(
        description=(
            'The aggregate type of the stream: "User", "Post" or "Comment" '
            "(more may be added)."
        )
    )
    version: int = strawberry.field(
        description="Version of the stream after this event (1 for the first event)."
    )
    type: str = strawberry.field(description='Past-tense name, e.g. "PostPublished".')
    schema_version: int = strawberry.field(
        description="Schema version of `data` as served (after upcasting)."
    )
    data: JSON
    occurred_at: datetime
    actor_id: strawberry.ID | None = strawberry.field(
        description="The user whose command caused the event; null for system events."
    )
    correlation_id: strawberry.ID | None
    causation_id: strawberry.ID | None

    @classmethod
    def from_served(cls, event: ServedEvent) -> Event:
        def opt_id(value: str | None) -> strawberry.ID | None:
            return None if value is None else strawberry.ID(value)

        return cls(
            id=strawberry.ID(event.id),
            position=Position(event.position),
            stream_id=strawberry.ID(event.stream_id),
            stream_type=event.stream_type,
            version=event.version,
            type=event.type,
            schema_version=event.schema_version,
            data=JSON(event.data),
            occurred_at=event.occurred_at,
            actor_id=opt_id(event.actor_id),
            correlation_id=opt_id(event.correlation_id),
            causation_id=opt_id(event.causation_id),
        )


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[ServedEvent]) -> EventConnection:
        return cls(
            edges=[EventEdge(cursor=c, node=Event.from_served(e)) for c, e in page.edges],
            page_info=PageInfo.from_page(page),
        )


@strawberry.type
class EventType:
    name: str = strawberry.field(description='Past-tense name, e.g. "PostPublished".')
    stream_type: str
    schema_version: int = strawberry.field(
        description=(
            "The schema version new events are written with; older ones are upcast on read."
        )
    )
    data_schema: JSON = strawberry.field(
        description="JSON Schema of `data` at `schemaVersion`, as served (after redaction)."
    )
