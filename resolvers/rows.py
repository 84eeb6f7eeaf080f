"""Read-table rows as plain frozen dataclasses, the currency between resolvers and schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FORGOTTEN_NAME = "Forgotten user"


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored instant is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


@dataclass(frozen=True)
class UserRow:
    id: str
    username: str
    display_name: str
    bio: str
    email: str | None
    role: str
    forgotten: bool
    created_at: datetime
    post_count: int
    version: int

    @classmethod
    def from_mapping(cls, row: Mapping[Any, Any]) -> UserRow:
        forgotten = bool(row["forgotten"])
        # The projection already blanks forgotten users; never trust a lagging row for it.
        return cls(
            id=row["id"],
            username=row["username"],
            display_name=FORGOTTEN_NAME if forgotten else row["display_name"],
            bio="" if forgotten else (row["bio"] or ""),
            email=None if forgotten else row["email"],
            role=row["role"],
            forgotten=forgotten,
            created_at=utc(row["created_at"]),
            post_count=row["post_count"],
            version=row["version"],
        )


@dataclass(frozen=True)
class PostRow:
    id: str
    author_id: str
    title: str
    body: str
    tags: tuple[str, ...]
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    comment_count: int
    like_count: int
    created_position: int
    position: int
    author: UserRow | None = None
    """The author's row when it was read with the post (a page joins it in)."""

    @classmethod
    def from_mapping(cls, row: Mapping[Any, Any], author: UserRow | None = None) -> PostRow:
        return cls(
            id=row["id"],
            author_id=row["author_id"],
            title=row["title"],
            body=row["body"],
            tags=tuple(json.loads(row["tags"] or "[]")),
            status=row["status"],
            version=row["version"],
            created_at=utc(row["created_at"]),
            updated_at=utc(row["updated_at"]),
            published_at=utc_or_none(row["published_at"]),
            comment_count=row["comment_count"],
            like_count=row["like_count"],
            created_position=row["created_position"],
            position=row["position"],
            author=author,
        )


@dataclass(frozen=True)
class CommentRow:
    id: str
    post_id: str
    author_id: str
    body: str
    created_at: datetime
    edited_at: datetime | None
    created_position: int

    @classmethod
    def from_mapping(cls, row: Mapping[Any, Any]) -> CommentRow:
        return cls(
            id=row["id"],
            post_id=row["post_id"],
            author_id=row["author_id"],
            body=row["body"],
            created_at=utc(row["created_at"]),
            edited_at=utc_or_none(row["edited_at"]),
            created_position=row["created_position"],
        )
