"""Per-request DataLoaders: one SQL statement per kind of row, whatever the page size.

Each batch opens its own connection: sibling field resolvers run concurrently,
and one shared session would fail with "concurrent operations are not
permitted" (STACK-NOTES pitfall 5).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from domain.ports import Actor
from resolvers.ports import ReadModel
from resolvers.rows import PostRow, UserRow


class Loaders:
    def __init__(self, engine: AsyncEngine, read_model: ReadModel, actor: Actor | None) -> None:
        self._engine = engine
        self._read_model = read_model
        self._actor = actor
        self.user = DataLoader[str, UserRow | None](self._load_users)
        self.post = DataLoader[str, PostRow | None](self._load_posts)
        self.liked_by_me = DataLoader[str, bool](self._load_liked_by_me)

    async def _load_users(self, ids: list[str]) -> Sequence[UserRow | None]:
        users = self._read_model.tables().users
        async with self._engine.connect() as conn:
            result = await conn.execute(select(users).where(users.c.id.in_(ids)))
            found = {row["id"]: UserRow.from_mapping(row) for row in result.mappings()}
        return [found.get(i) for i in ids]

    async def _load_posts(self, ids: list[str]) -> Sequence[PostRow | None]:
        posts = self._read_model.tables().posts
        async with self._engine.connect() as conn:
            result = await conn.execute(select(posts).where(posts.c.id.in_(ids)))
            found = {row["id"]: PostRow.from_mapping(row) for row in result.mappings()}
        return [found.get(i) for i in ids]

    async def _load_liked_by_me(self, post_ids: list[str]) -> Sequence[bool]:
        if self._actor is None:
            return [False] * len(post_ids)
        likes = self._read_model.tables().likes
        query = select(likes.c.post_id).where(
            likes.c.user_id == self._actor.user_id, likes.c.post_id.in_(post_ids)
        )
        async with self._engine.connect() as conn:
            liked = set((await conn.execute(query)).scalars())
        return [p in liked for p in post_ids]
