"""Every domain event the log knows, with its schema version.

Events are frozen dataclasses named in the past tense and carrying facts only.
Each class is registered with the stream type it belongs to, the schema
version new events are written with, and how its fields must be treated when
stored or served:

- ``personal``: personal data, stored encrypted with the key of the user
  named by ``subject`` (crypto-shredding: destroying the key makes these
  fields unreadable everywhere, in the log too);
- ``secret``: never leaves the server (password hashes);
- ``owner_only``: served only to the subject and to admins (email).

Field names are snake_case here and camelCase in stored and served JSON.
Turning an event into data and back is ``events.shapes``' job.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar


@dataclass(frozen=True)
class EventSpec:
    name: str
    stream_type: str
    schema_version: int
    cls: type[DomainEvent]
    personal: tuple[str, ...] = ()
    secret: tuple[str, ...] = ()
    owner_only: tuple[str, ...] = ()
    subject: str | None = None
    """Field holding the user id whose key encrypts ``personal`` fields."""


class DomainEvent:
    """Base of every event class; ``spec`` is attached by :func:`event`."""

    spec: ClassVar[EventSpec]


CATALOG: dict[str, EventSpec] = {}

E = TypeVar("E", bound=type[DomainEvent])


def event(
    stream_type: str,
    schema_version: int = 1,
    *,
    personal: tuple[str, ...] = (),
    secret: tuple[str, ...] = (),
    owner_only: tuple[str, ...] = (),
    subject: str | None = None,
) -> Callable[[E], E]:
    def register(cls: E) -> E:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        for field in (*personal, *secret, *owner_only, *((subject,) if subject else ())):
            assert field in names, f"{cls.__name__} has no field {field}"
        assert not personal or subject, f"{cls.__name__}: personal data needs a subject"
        spec = EventSpec(
            cls.__name__, stream_type, schema_version, cls, personal, secret, owner_only, subject
        )
        cls.spec = spec
        CATALOG[spec.name] = spec
        return cls

    return register


# --- User stream ---------------------------------------------------------


@event("User", personal=("email", "display_name"), secret=("password_hash",),
       owner_only=("email",), subject="user_id")
@dataclass(frozen=True)
class UserRegistered(DomainEvent):
    user_id: str
    username: str
    email: str | None
    display_name: str | None
    password_hash: str
    role: str = "MEMBER"


@event("User", personal=("display_name", "bio"), subject="user_id")
@dataclass(frozen=True)
class ProfileUpdated(DomainEvent):
    """Only the fields that changed are set; ``None`` means unchanged."""

    user_id: str
    display_name: str | None = None
    bio: str | None = None


@event("User", secret=("password_hash",))
@dataclass(frozen=True)
class PasswordChanged(DomainEvent):
    user_id: str
    password_hash: str


@event("User")
@dataclass(frozen=True)
class RoleGranted(DomainEvent):
    user_id: str
    role: str


@event("User")
@dataclass(frozen=True)
class UserForgotten(DomainEvent):
    """The user's key is destroyed in the same commit: their personal data is gone."""

    user_id: str


# --- Login throttle stream (one per username, known or not) --------------


@event("LoginThrottle")
@dataclass(frozen=True)
class LoginFailed(DomainEvent):
    username: str
    at: str
    """ISO 8601 instant of the attempt (also in recorded_at; kept for folding without metadata)."""


@event("LoginThrottle")
@dataclass(frozen=True)
class LoginSucceeded(DomainEvent):
    """Recorded only after failures, to reset the throttle."""

    username: str
    at: str


# --- Post stream ----------------------------------------------------------


@event("Post", schema_version=2)
@dataclass(frozen=True)
class PostCreated(DomainEvent):
    """Schema v1 had no ``tags``; it is upcast on read (see ``events.upcasting``)."""

    post_id: str
    author_id: str
    title: str
    body: str
    tags: tuple[str, ...] = ()


@event("Post")
@dataclass(frozen=True)
class PostEdited(DomainEvent):
    """Only the fields that changed are set; ``None`` means unchanged."""

    post_id: str
    title: str | None = None
    body: str | None = None
    tags: tuple[str, ...] | None = None


@event("Post")
@dataclass(frozen=True)
class PostPublished(DomainEvent):
    post_id: str


@event("Post")
@dataclass(frozen=True)
class PostArchived(DomainEvent):
    post_id: str


@event("Post")
@dataclass(frozen=True)
class PostDeleted(DomainEvent):
    post_id: str


@event("Post")
@dataclass(frozen=True)
class PostRestored(DomainEvent):
    """Title, body and tags brought back from ``from_version``; history is never rewritten."""

    post_id: str
    from_version: int
    title: str
    body: str
    tags: tuple[str, ...]


# --- Comment stream -------------------------------------------------------


@event("Comment")
@dataclass(frozen=True)
class CommentAdded(DomainEvent):
    comment_id: str
    post_id: str
    author_id: str
    body: str


@event("Comment")
@dataclass(frozen=True)
class CommentEdited(DomainEvent):
    comment_id: str
    post_id: str
    body: str


@event("Comment")
@dataclass(frozen=True)
class CommentDeleted(DomainEvent):
    comment_id: str
    post_id: str


# --- Like stream (one per post and member, so likes never contend) -------


@event("Like")
@dataclass(frozen=True)
class PostLiked(DomainEvent):
    post_id: str
    user_id: str


@event("Like")
@dataclass(frozen=True)
class PostUnliked(DomainEvent):
    post_id: str
    user_id: str


def spec_of(name: str) -> EventSpec:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown event type {name!r}") from None
