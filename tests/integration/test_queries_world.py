"""A running Chronicle (store, projections, handlers) for the query tests, and its helpers.

Other ``test_queries_*`` modules open a :class:`World` per test; the tests here
check the helper itself: what it builds is what the queries read.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from graphql import ExecutionResult

import schema
from chronicle.bootstrap import Chronicle, start
from chronicle.settings import Settings
from domain.commands import Command, CreatePost, PromoteUser, RegisterUser
from domain.ports import Actor, Outcome
from resolvers.context import RequestContext, Services
from resolvers.hub import LiveHub

STOP_TIMEOUT = 30.0


class World:
    def __init__(self, chronicle: Chronicle) -> None:
        self.chronicle = chronicle
        self.services = Services(
            store=chronicle.store,
            runner=chronicle.runner,
            engine=chronicle.engine,
            execute=chronicle.execute,
            tokens=chronicle.tokens,
            bus=chronicle.bus,
            hub=LiveHub(chronicle.store, chronicle.bus, poll_interval=0.2),
        )
        self.schema = schema.build_schema()

    async def run(self, command: Command, actor: Actor | None = None) -> Outcome:
        """Execute a command and wait until every projection applied it."""
        outcome = await self.chronicle.execute(command, actor, None)
        assert await self.chronicle.runner.wait_for(outcome.position, 10.0)
        return outcome

    async def member(self, username: str) -> Actor:
        outcome = await self.run(
            RegisterUser(username, f"{username.lower()}@example.com", "correct horse 1")
        )
        return Actor(outcome.result["user_id"])

    async def admin(self, username: str) -> Actor:
        member = await self.member(username)
        await self.run(PromoteUser(username))
        return Actor(member.user_id, "ADMIN")

    async def post(
        self, author: Actor, title: str = "A title", *, publish: bool = True,
        tags: tuple[str, ...] = (), body: str = "A body",
    ) -> str:
        outcome = await self.run(CreatePost(title, body, tags, publish), author)
        return outcome.result["post_id"]

    def context(self, actor: Actor | None = None) -> RequestContext:
        return RequestContext(services=self.services, actor=actor, request_id="test")

    async def query(
        self, document: str, actor: Actor | None = None, **variables: Any
    ) -> ExecutionResult:
        return await self.schema.execute(
            document, variable_values=variables, context_value=self.context(actor)
        )

    async def data(self, document: str, actor: Actor | None = None, **variables: Any) -> Any:
        """The result's data, failing the test on any error."""
        result = await self.query(document, actor, **variables)
        assert result.errors is None, result.errors
        return result.data

    async def error_code(
        self, document: str, actor: Actor | None = None, **variables: Any
    ) -> str:
        result = await self.query(document, actor, **variables)
        assert result.errors, f"expected an error, got {result.data}"
        return str(result.errors[0].extensions["code"])  # type: ignore[index]


@asynccontextmanager
async def open_world(database_url: str, data_dir: Path) -> AsyncIterator[World]:
    settings = Settings(
        database_url=database_url, data_dir=data_dir, secret_key="test-secret-" + "x" * 32,
        read_wait_timeout=5.0,
    )
    chronicle = await start(settings)
    world = World(chronicle)
    try:
        yield world
    finally:
        assert world.services.hub is not None
        await world.services.hub.close()
        await _stop(chronicle)


async def _stop(chronicle: Chronicle) -> None:
    """Stop, or fail the test with every task's stack: a hung shutdown must not hang CI."""
    stopping = asyncio.ensure_future(chronicle.stop())
    done, _ = await asyncio.wait({stopping}, timeout=STOP_TIMEOUT)
    if stopping in done:
        stopping.result()
        return
    stacks = io.StringIO()
    for task in asyncio.all_tasks():
        stacks.write(f"--- {task.get_name()}\n")
        task.print_stack(file=stacks)
    stopping.cancel()
    raise AssertionError(f"Chronicle did not stop in {STOP_TIMEOUT} s:\n{stacks.getvalue()}")


async def test_a_member_registered_through_the_world_is_readable_as_me(
    database_url: str, tmp_path: Path
) -> None:
    async with open_world(database_url, tmp_path) as world:
        alice = await world.member("Alice")
        data = await world.data("{ me { id username role } }", alice)
        assert data == {"me": {"id": alice.user_id, "username": "Alice", "role": "MEMBER"}}


async def test_an_admin_made_through_the_world_holds_the_admin_role(
    database_url: str, tmp_path: Path
) -> None:
    async with open_world(database_url, tmp_path) as world:
        root = await world.admin("root")
        data = await world.data("{ me { role } }", root)
        assert data == {"me": {"role": "ADMIN"}}
