"""Projection ``users``: members as the API shows them, with their published post count.

``PostPublished`` and friends do not name the author, so the projection keeps
its own small ``user_posts`` table (post -> author, counted or not) to keep
``users.post_count`` equal to the author's posts whose status is PUBLISHED.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from events.model import RecordedEvent
from projections import projection
from projections.projection import Change, Projection
from projections.rows import Row, insert_rows, load_rows, update_rows
from projections.tables import USER_CREDENTIALS, user_tables
from projections.writes import Writes, writes

FORGOTTEN_NAME = "Forgotten user"


@dataclass
class UsersBatch:
    users: dict[str, Row | None]
    users_loaded: set[str]
    user_posts: dict[str, Row | None]
    user_posts_loaded: set[str]
    dirty_users: set[str] = field(default_factory=set)
    dirty_posts: set[str] = field(default_factory=set)

    @classmethod
    def empty(cls) -> UsersBatch:
        return cls({}, set(), {}, set())

    def update_user(self, user_id: str, e: RecordedEvent, **values: object) -> None:
        row = self.users.get(user_id)
        if row is not None:
            self.users[user_id] = {**row, **values, "position": e.position}
            self.dirty_users.add(user_id)

    def changes(self) -> list[Change]:
        return [
            {"kind": "user", "id": k, "change": "UPDATED" if k in self.users_loaded else "ADDED"}
            for k in sorted(self.dirty_users)
        ]


# --- one function per event type -------------------------------------------


def user_registered(b: UsersBatch, e: RecordedEvent) -> None:
    d = e.data
    b.users[d["user_id"]] = {
        "id": d["user_id"], "username": d["username"],
        # personal fields read back as None once the user's key is destroyed
        "display_name": d.get("display_name") or d["username"],
        "bio": "", "email": d.get("email"), "role": d.get("role") or "MEMBER",
        "forgotten": False, "created_at": e.recorded_at, "post_count": 0,
        "version": e.version, "position": e.position, "credentials": 0,
    }
    b.dirty_users.add(d["user_id"])


def profile_updated(b: UsersBatch, e: RecordedEvent) -> None:
    d, row = e.data, b.users.get(e.data["user_id"])
    if row is None:
        return
    values: dict[str, object] = {"version": e.version}
    if d.get("display_name") is not None:
        values["display_name"] = d["display_name"] or row["username"]
    if d.get("bio") is not None:
        values["bio"] = d["bio"]
    b.update_user(d["user_id"], e, **values)


def password_changed(b: UsersBatch, e: RecordedEvent) -> None:
    row = b.users.get(e.data["user_id"])
    if row is not None and "credentials" in row:  # a generation of the older shape has none
        b.update_user(row["id"], e, version=e.version, credentials=row["credentials"] + 1)
    else:
        b.update_user(e.data["user_id"], e, version=e.version)


def role_granted(b: UsersBatch, e: RecordedEvent) -> None:
    b.update_user(e.data["user_id"], e, role=e.data["role"], version=e.version)


def user_forgotten(b: UsersBatch, e: RecordedEvent) -> None:
    b.update_user(
        e.data["user_id"], e, display_name=FORGOTTEN_NAME, email=None, bio="",
        forgotten=True, version=e.version,
    )


def post_created(b: UsersBatch, e: RecordedEvent) -> None:
    d = e.data
    b.user_posts[d["post_id"]] = {
        "post_id": d["post_id"], "author_id": d["author_id"], "counted": False
    }
    b.dirty_posts.add(d["post_id"])


def _counted(b: UsersBatch, e: RecordedEvent, counted: bool) -> None:
    post = b.user_posts.get(e.data["post_id"])
    if post is None or post["counted"] == counted:
        return
    b.user_posts[post["post_id"]] = {**post, "counted": counted}
    b.dirty_posts.add(post["post_id"])
    author = b.users.get(post["author_id"])
    if author is not None:
        b.update_user(author["id"], e, post_count=author["post_count"] + (1 if counted else -1))


def post_published(b: UsersBatch, e: RecordedEvent) -> None:
    _counted(b, e, True)


def post_withdrawn(b: UsersBatch, e: RecordedEvent) -> None:
    """Archived or deleted: no longer among the author's published posts."""
    _counted(b, e, False)


HANDLERS: dict[str, Callable[[UsersBatch, RecordedEvent], None]] = {
    "UserRegistered": user_registered,
    "ProfileUpdated": profile_updated,
    "PasswordChanged": password_changed,
    "RoleGranted": role_granted,
    "UserForgotten": user_forgotten,
    "PostCreated": post_created,
    "PostPublished": post_published,
    "PostArchived": post_withdrawn,
    "PostDeleted": post_withdrawn,
}


def fold(b: UsersBatch, events: Sequence[RecordedEvent]) -> None:
    projection.fold(b, HANDLERS, events)


# --- loading and writing a batch -------------------------------------------


async def load(
    conn: AsyncConnection, t: dict[str, Table], events: Sequence[RecordedEvent]
) -> UsersBatch:
    """The rows the batch touches, as they are before it; not those its events create.

    A stream's first event (version 1) makes a row that cannot exist yet (a
    user by ``UserRegistered``, a post by ``PostCreated``): not looked for.
    """
    b = UsersBatch.empty()
    post_ids: set[str] = set()
    user_ids: set[str] = set()
    new_posts: set[str] = set()
    new_users: set[str] = set()
    for e in events:
        d = e.data
        if "post_id" in d:
            post_ids.add(d["post_id"])
            if e.type == "PostCreated":
                user_ids.add(d["author_id"])
                if e.version == 1:
                    new_posts.add(d["post_id"])
        if "user_id" in d:
            user_ids.add(d["user_id"])
            if e.version == 1 and e.type == "UserRegistered":
                new_users.add(d["user_id"])
    for row in await load_rows(conn, t["user_posts"], "post_id", post_ids - new_posts):
        b.user_posts[row["post_id"]] = row
    b.user_posts_loaded = set(b.user_posts)
    user_ids -= new_users
    user_ids |= {r["author_id"] for r in b.user_posts.values() if r is not None}
    for row in await load_rows(conn, t["users"], "id", user_ids):
        b.users[row["id"]] = row
    b.users_loaded = set(b.users)
    return b


async def write(conn: AsyncConnection, t: dict[str, Table], b: UsersBatch) -> None:
    # Two statements per table however many events hit the rows: rows that existed
    # are updated in place (a delete and insert would redo every index), in key order.
    async with writes(conn) as out:
        await _write(out, t["users"], "id", b.users, b.dirty_users, b.users_loaded)
        await _write(
            out, t["user_posts"], "post_id", b.user_posts, b.dirty_posts, b.user_posts_loaded
        )


async def _write(
    out: Writes,
    table: Table,
    key: str,
    rows: dict[str, Row | None],
    dirty: set[str],
    loaded: set[str],
) -> None:
    await update_rows(out, table, key, [
        r for k in sorted(dirty & loaded) if (r := rows[k]) is not None
    ])
    await insert_rows(out, table, [
        r for k in sorted(dirty - loaded) if (r := rows[k]) is not None
    ])


class UsersProjection(Projection):
    name = "users"
    # 2: users.credentials, the password changes that make older tokens stale
    schema_version = USER_CREDENTIALS
    types = tuple(HANDLERS)
    # A post's events move its author's count; the author is named as the user.
    sequence_fields = {"user_id": "user", "author_id": "user", "post_id": "post"}

    def tables(
        self, metadata: MetaData, suffix: str, schema_version: int | None = None
    ) -> dict[str, Table]:
        return user_tables(metadata, suffix, schema_version or self.schema_version)

    async def apply(
        self, conn: AsyncConnection, tables: dict[str, Table], events: Sequence[RecordedEvent]
    ) -> list[Change]:
        batch = await load(conn, tables, events)
        fold(batch, events)
        await write(conn, tables, batch)
        return batch.changes()
