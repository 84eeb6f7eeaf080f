"""The plain CRUD baseline Chronicle's HTTP figures are compared with.

A small strawberry + Starlette app that writes and reads the same ``users``
and ``posts`` rows as Chronicle's read model, directly, with no events: what a
careful team would ship without event sourcing. It gets the care Chronicle
gets, so the comparison is with a good CRUD app rather than a naive one:

- strawberry's parser and validation caches (validation dominates small requests);
- one in-process writer (an asyncio lock), so SQLite never sees concurrent
  writers ("database is locked" and multi-second tails otherwise);
- WAL with ``synchronous=FULL``: an acknowledged post survives power loss;
- bearer tokens signed with PyJWT, passwords hashed with argon2id.

Run it with ``python -m bench.crud_app --port 8001 --db /tmp/crud.db``.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import orjson
import strawberry
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy import Column, MetaData, String, Table, event, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info

from projections.tables import posts_tables, users_table

METADATA = MetaData()
USERS = users_table(METADATA, "")
POSTS = posts_tables(METADATA, "")["posts"]
# Chronicle keeps password hashes in its log; a CRUD app needs a place of its own.
CREDENTIALS = Table(
    "credentials", METADATA,
    Column("user_id", String(36), primary_key=True),
    Column("password_hash", String(200), nullable=False),
)
MAX_PAGE = 100
TOKEN_TTL = timedelta(days=7)


class Unauthenticated(Exception):
    """No valid bearer token on a request that needs one."""


@dataclass
class Store:
    """The database, and the one writer every write goes through."""

    engine: AsyncEngine
    write_lock: asyncio.Lock
    next_position: int

    @asynccontextmanager
    async def write(self) -> AsyncIterator[tuple[AsyncConnection, int]]:
        """A write transaction, one at a time, with the next feed position."""
        async with self.write_lock, self.engine.begin() as conn:
            position = self.next_position
            yield conn, position
            self.next_position = position + 1


@dataclass
class Services:
    store: Store
    secret: str
    hasher: PasswordHasher


@dataclass
class Context:
    services: Services
    user_id: str | None

    def require_user(self) -> str:
        if self.user_id is None:
            raise Unauthenticated("a valid bearer token is required")
        return self.user_id


@strawberry.type
class User:
    id: strawberry.ID
    username: str
    display_name: str


@strawberry.type
class Post:
    id: strawberry.ID
    title: str
    body: str
    tags: list[str]
    status: str
    comment_count: int
    like_count: int
    author: User


@strawberry.type
class PostEdge:
    cursor: str
    node: Post


@strawberry.type
class PostConnection:
    edges: list[PostEdge]


@strawberry.type
class AuthPayload:
    token: str
    user: User


@strawberry.type
class PostPayload:
    post: Post


@strawberry.input
class RegisterInput:
    username: str
    email: str
    password: str
    display_name: str | None = None


@strawberry.input
class CreatePostInput:
    title: str
    body: str
    tags: list[str] = strawberry.field(default_factory=list)
    publish: bool = False


def _post(row: Row[Any]) -> Post:
    author = User(id=strawberry.ID(row.author_id), username=row.username,
                  display_name=row.display_name)
    return Post(
        id=strawberry.ID(row.id), title=row.title, body=row.body, tags=orjson.loads(row.tags),
        status=row.status, comment_count=row.comment_count, like_count=row.like_count,
        author=author,
    )


# One statement for a page: the author comes with the post through a join.
FEED = (
    select(POSTS, USERS.c.username, USERS.c.display_name)
    .join(USERS, USERS.c.id == POSTS.c.author_id)
    .where(POSTS.c.status == "PUBLISHED")
    .order_by(POSTS.c.created_position.desc())
)


@strawberry.type
class Query:
    @strawberry.field
    async def posts(self, info: Info[Context, None], first: int = 20) -> PostConnection:
        store = info.context.services.store
        async with store.engine.connect() as conn:
            rows = (await conn.execute(FEED.limit(max(0, min(first, MAX_PAGE))))).all()
        return PostConnection(
            edges=[PostEdge(cursor=str(row.created_position), node=_post(row)) for row in rows]
        )


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def register(self, info: Info[Context, None], input: RegisterInput) -> AuthPayload:
        services = info.context.services
        # argon2 is deliberately slow: keep it off the event loop.
        password_hash = await asyncio.to_thread(services.hasher.hash, input.password)
        now = datetime.now(UTC)
        user = User(id=strawberry.ID(str(uuid.uuid4())), username=input.username.lower(),
                    display_name=input.display_name or input.username)
        async with services.store.write() as (conn, position):
            await conn.execute(USERS.insert().values(
                id=user.id, username=user.username, display_name=user.display_name, bio="",
                email=input.email, role="MEMBER", forgotten=False, created_at=now,
                post_count=0, version=1, position=position,
            ))
            await conn.execute(
                CREDENTIALS.insert().values(user_id=user.id, password_hash=password_hash)
            )
        return AuthPayload(token=_token(services.secret, user.id), user=user)

    @strawberry.mutation
    async def create_post(self, info: Info[Context, None], input: CreatePostInput) -> PostPayload:
        author_id = info.context.require_user()
        tags = [tag.strip().lower() for tag in input.tags]
        status = "PUBLISHED" if input.publish else "DRAFT"
        now = datetime.now(UTC)
        post_id = str(uuid.uuid4())
        async with info.context.services.store.write() as (conn, position):
            author = (await conn.execute(
                select(USERS.c.id, USERS.c.username, USERS.c.display_name)
                .where(USERS.c.id == author_id)
            )).one_or_none()
            if author is None:
                raise Unauthenticated("the token's user does not exist")
            await conn.execute(POSTS.insert().values(
                id=post_id, author_id=author_id, title=input.title, body=input.body,
                tags=orjson.dumps(tags).decode(), status=status, version=1, created_at=now,
                updated_at=now, published_at=now if input.publish else None, comment_count=0,
                like_count=0, created_position=position, position=position,
            ))
        post = Post(
            id=strawberry.ID(post_id), title=input.title, body=input.body, tags=tags,
            status=status, comment_count=0, like_count=0,
            author=User(id=strawberry.ID(author.id), username=author.username,
                        display_name=author.display_name),
        )
        return PostPayload(post=post)


def _token(secret: str, user_id: str) -> str:
    now = datetime.now(UTC)
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + TOKEN_TTL}, secret, "HS256")


def _caller(secret: str, authorization: str | None) -> str | None:
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    try:
        claims = jwt.decode(authorization[7:].strip(), secret, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) else None


class CrudGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Any, response: Any = None) -> Context:
        services: Services = request.app.state.services
        return Context(services, _caller(services.secret, request.headers.get("authorization")))


SCHEMA = strawberry.Schema(
    query=Query, mutation=Mutation, extensions=[ParserCache, ValidationCache]
)


def create_engine(db_path: str) -> AsyncEngine:
    engine = create_async_engine(f"sqlite+aiosqlite:///{db_path}")

    @event.listens_for(engine.sync_engine, "connect")
    def durable_wal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def create_app(db_path: str) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(db_path)
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
            last = (await conn.execute(select(func.max(POSTS.c.created_position)))).scalar()
        # asyncio primitives are made here, inside the server's loop (pitfall 7).
        store = Store(engine, asyncio.Lock(), (last or 0) + 1)
        app.state.services = Services(store, secrets.token_urlsafe(32), PasswordHasher())
        yield
        await engine.dispose()

    graphql = CrudGraphQL(SCHEMA, graphql_ide=None)
    return Starlette(routes=[Route("/graphql", graphql)], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--db", required=True, help="SQLite file (created if missing)")
    args = parser.parse_args()
    uvicorn.run(create_app(args.db), host=args.host, port=args.port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
