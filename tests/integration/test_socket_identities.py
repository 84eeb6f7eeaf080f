"""schema.identities.Identities: which held sockets close, and when, against a real log and bus."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from domain.security import TokenClaims
from events.catalog import PasswordChanged, UserForgotten, UserRegistered
from schema import identities as watch
from schema.identities import Identities
from tests.integration.test_projections_kit import Log, open_log

LATER = time.time() + 3600


class Socket:
    """Stands for one websocket: remembers whether it was closed."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    async def close(self) -> None:
        self.closed.set()


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[Log]:
    async with open_log(database_url) as log:
        yield log


@pytest.fixture
async def identities(log: Log) -> AsyncIterator[Identities]:
    watching = Identities(log.store, log.bus)
    await watching.start()
    try:
        yield watching
    finally:
        await watching.stop()


async def member(log: Log, user_id: str) -> None:
    await log.append(user_id, UserRegistered(user_id, user_id, f"{user_id}@example.org", None, "h"))


async def held(identities: Identities, user_id: str, credentials: int = 0,
               expires_at: float = LATER) -> Socket:
    socket = Socket()
    await identities.hold(TokenClaims(user_id, expires_at, credentials), socket.close)
    return socket


async def closes(socket: Socket) -> bool:
    try:
        async with asyncio.timeout(5):
            await socket.closed.wait()
    except TimeoutError:
        return False
    return True


async def stays_open(socket: Socket) -> bool:
    await asyncio.sleep(0.3)
    return not socket.closed.is_set()


async def test_forgetting_a_member_closes_their_sockets_only(log: Log, identities: Identities):
    await member(log, "u1")
    await member(log, "u2")
    mine, theirs = await held(identities, "u1"), await held(identities, "u2")

    await log.append("u1", UserForgotten("u1"))

    assert await closes(mine)
    assert await stays_open(theirs)


async def test_a_password_change_closes_the_sockets_of_tokens_issued_before_it(
    log: Log, identities: Identities
):
    await member(log, "u1")
    await log.append("u1", PasswordChanged("u1", "h2"))
    before, after = await held(identities, "u1", 1), await held(identities, "u1", 2)

    await log.append("u1", PasswordChanged("u1", "h3"))

    assert await closes(before)
    assert await stays_open(after)


async def test_a_change_committed_just_before_the_hold_is_not_missed(
    log: Log, identities: Identities
):
    await member(log, "u1")
    await log.append("u1", UserForgotten("u1"))

    assert await closes(await held(identities, "u1"))


async def test_the_socket_closes_when_its_token_expires(log: Log, identities: Identities):
    await member(log, "u1")
    expiring = await held(identities, "u1", expires_at=time.time() + 0.2)

    assert await stays_open(await held(identities, "u1"))
    assert expiring.closed.is_set()


async def test_a_released_socket_is_not_closed_any_more(log: Log, identities: Identities):
    await member(log, "u1")
    socket = Socket()
    holding = await identities.hold(TokenClaims("u1", time.time() + 0.2, 0), socket.close)

    identities.release(holding)
    await log.append("u1", UserForgotten("u1"))

    assert await stays_open(socket)


async def test_a_failed_read_of_the_log_delays_a_close_but_never_loses_it(
    log: Log, identities: Identities, monkeypatch: pytest.MonkeyPatch
):
    await member(log, "u1")
    socket = await held(identities, "u1")
    monkeypatch.setattr(watch, "RETRY_DELAY", 0.1)
    real: Callable[..., Any] = log.store.read_all
    failures = [ConnectionError("the database went away for a moment")]

    async def flaky(**options: Any) -> Any:
        if failures:
            raise failures.pop()
        return await real(**options)

    monkeypatch.setattr(log.store, "read_all", flaky)
    await log.append("u1", UserForgotten("u1"))

    assert await closes(socket)
    assert not failures
