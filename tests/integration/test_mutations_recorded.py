"""A committed write is never reported as failed, however late or broken the read model is."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from tests.integration.test_queries_world import World, open_world

CREATE = """mutation { createPost(input: {title: "Recorded", body: "b", publish: true}) {
  position post { id title } } }"""


class BrokenRunner:
    """The projection runner of a process whose database connection just failed."""

    def __init__(self, runner: Any) -> None:
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runner, name)

    async def wait_for(self, *args: Any, **kwargs: Any) -> bool:
        raise ConnectionResetError("connection lost while waiting")


def with_services(world: World, **changes: Any) -> World:
    world.services = dataclasses.replace(world.services, **changes)
    return world


async def assert_recorded(world: World, result: Any) -> None:
    [error] = result.errors
    head = await world.chronicle.store.head_position()
    assert error.extensions == {"code": "STALE_READ", "position": str(head), "recorded": True}
    assert "recorded" in error.message and "do not send it again" in error.message
    [event] = await world.chronicle.store.read_all(after=head - 1, limit=1)
    assert event.type == "PostPublished", "the write is in the log"


async def test_a_mutation_while_the_projections_are_stopped_says_it_was_recorded(
    database_url: str, tmp_path: Path
) -> None:
    async with open_world(database_url, tmp_path) as world:
        alice = await world.member("alice")
        await world.chronicle.runner.stop()
        with_services(world, read_wait_timeout=0.3)

        result = await world.query(CREATE, alice)

        await assert_recorded(world, result)


async def test_a_failure_while_waiting_for_the_read_model_says_it_was_recorded(
    database_url: str, tmp_path: Path
) -> None:
    async with open_world(database_url, tmp_path) as world:
        alice = await world.member("alice")
        with_services(world, runner=BrokenRunner(world.chronicle.runner))

        result = await world.query(CREATE, alice)

        await assert_recorded(world, result)


async def test_a_payload_missing_from_the_read_model_says_it_was_recorded(
    database_url: str, tmp_path: Path
) -> None:
    """As when the projection parked the write's event: the wait ends, the row is absent."""
    async with open_world(database_url, tmp_path) as world:
        alice = await world.member("alice")
        stopped = world.chronicle.runner
        await stopped.stop()

        class Passed(BrokenRunner):
            async def wait_for(self, *args: Any, **kwargs: Any) -> bool:
                return True

        with_services(world, runner=Passed(stopped))

        result = await world.query(CREATE, alice)

        await assert_recorded(world, result)
