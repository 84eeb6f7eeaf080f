"""Per-request DataLoaders: one SQL statement per kind of row, whatever the page size.

Each batch is one driver-level read (``resolvers.statements``): through the
async engine, a lookup by id paid a pool checkout, a BEGIN and a ROLLBACK
around a query a hundred times cheaper, and every mutation's payload is such
a lookup. Statements are compiled once per table and number of ids. Sibling
batches run concurrently, each on a connection of its own (docs/architecture.md,
"One context per socket").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import BindParameter, Select, Table, bindparam, select
from sqlalchemy.engine import Dialect
from strawberry.dataloader import DataLoader

from domain.ports import Actor
from events.reading import Reader
from resolvers.ports import ReadModel
from resolvers.rows import PostRow, UserRow
from resolvers.statements import DriverSelect, Statements

Build = Callable[[list[BindParameter[Any]]], Select[Any]]
STATEMENTS = Statements(size=1024)
"""Up to a few hundred shapes: three kinds of row by every batch size up to a page's."""


def _by_ids(
    kind: str, table: Table, count: int, build: Build, dialect: Dialect
) -> DriverSelect:
    """The statement for ``count`` ids (``id0`` …), compiled once per table and count."""
    key = (kind, table, count)
    compiled = STATEMENTS.get(key)
    if compiled is None:
        ids: list[BindParameter[Any]] = [bindparam(f"id{i}") for i in range(count)]
        compiled = STATEMENTS.add(key, build(ids), dialect)
    return compiled


def _ids(ids: Sequence[str]) -> dict[str, Any]:
    return {f"id{i}": value for i, value in enumerate(ids)}


class Loaders:
    def __init__(
        self, reader: Reader, dialect: Dialect, read_model: ReadModel,
        actor: Callable[[], Actor | None],
    ) -> None:
        self._reader = reader
        self._dialect = dialect
        self._read_model = read_model
        self._actor = actor
        """Who asks, read only by the caller-keyed loader (reading it is recorded)."""
        self.user = DataLoader[str, UserRow | None](self._load_users)
        self.post = DataLoader[str, PostRow | None](self._load_posts)
        self.liked_by_me = DataLoader[str, bool](self._load_liked_by_me)

    async def _load_users(self, ids: list[str]) -> Sequence[UserRow | None]:
        users = self._read_model.tables().users
        statement = _by_ids(
            "users", users, len(ids), lambda p: select(users).where(users.c.id.in_(p)),
            self._dialect,
        )
        rows = await statement.fetch(self._reader, _ids(ids))
        found = {row["id"]: UserRow.from_mapping(row) for row in rows}
        return [found.get(i) for i in ids]

    async def _load_posts(self, ids: list[str]) -> Sequence[PostRow | None]:
        posts = self._read_model.tables().posts
        statement = _by_ids(
            "posts", posts, len(ids), lambda p: select(posts).where(posts.c.id.in_(p)),
            self._dialect,
        )
        rows = await statement.fetch(self._reader, _ids(ids))
        found = {row["id"]: PostRow.from_mapping(row) for row in rows}
        return [found.get(i) for i in ids]

    async def _load_liked_by_me(self, post_ids: list[str]) -> Sequence[bool]:
        actor = self._actor()
        if actor is None:
            return [False] * len(post_ids)
        likes = self._read_model.tables().likes
        statement = _by_ids(
            "likes", likes, len(post_ids),
            lambda p: select(likes.c.post_id).where(
                likes.c.user_id == bindparam("user_id"), likes.c.post_id.in_(p)
            ),
            self._dialect,
        )
        rows = await statement.fetch(
            self._reader, {**_ids(post_ids), "user_id": actor.user_id}
        )
        liked = {row["post_id"] for row in rows}
        return [p in liked for p in post_ids]
