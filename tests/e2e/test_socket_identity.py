"""A socket speaks for its member only as long as their token would still be accepted.

Forgetting the member or changing their password ends it: their open sockets
close with 4403 (so clients refresh their credentials), and a token issued
before a password change is refused afterwards, over websockets and HTTP.
Both protocols are served and held to the same rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from gql import GraphQLRequest
from websockets.asyncio.client import ClientConnection

from tests.conftest import REDIS_URL, _require
from tests.e2e.conftest import start_server
from tests.e2e.members import Member, register
from tests.e2e.server import Api, Server
from tests.e2e.sockets import (
    EVENTS,
    FORBIDDEN,
    LEGACY,
    NEW,
    PROTOCOLS,
    close_code,
    closed,
    gql_client,
    initialised,
    raw,
    receive,
    send,
    subscribe,
)

SCALED_OUT = pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.redis])


@pytest.fixture(scope="module")
def scaled_out_settings(pg_database: str) -> dict[str, str]:
    """PostgreSQL with a Redis bus: the notices that end an identity cross processes."""
    _require("Redis", "127.0.0.1", 6379)
    return {"CHRONICLE_DATABASE_URL": pg_database, "CHRONICLE_SECRET_KEY": uuid.uuid4().hex * 2,
            "CHRONICLE_BROADCAST_URL": REDIS_URL}


@pytest.fixture(scope="module", params=["sqlite", SCALED_OUT])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    """As the e2e conftest's, but scaled out (Redis) on PostgreSQL."""
    extra: dict[str, str] = {}
    if request.param == "postgres":
        extra = request.getfixturevalue("scaled_out_settings")
    running = start_server(tmp_path_factory.mktemp(f"identity-{request.param}"), extra)
    try:
        yield running
    finally:
        running.stop()


FORGET_ME = "mutation F($password: String!) { forgetMe(password: $password) { id position } }"
CHANGE_PASSWORD = """
mutation C($input: ChangePasswordInput!) { changePassword(input: $input) { position token } }
"""
LOGIN = "mutation L($input: LoginInput!) { login(input: $input) { token } }"
ME = "{ me { id } }"
NEW_PASSWORD = "a brand new passphrase"


async def _live(ws: ClientConnection, protocol: str, operation_id: str = "live") -> None:
    """Subscribe to the log and wait for its first event: the socket is in use."""
    await subscribe(ws, protocol, operation_id, EVENTS)
    while (reply := await receive(ws))["id"] != operation_id:
        pass
    assert reply["type"] in ("next", "data") and "errors" not in reply["payload"], reply


async def _change_password(api: Api, member: Member) -> str:
    """Change the member's password; the fresh token the change answers with."""
    data = await api(CHANGE_PASSWORD, {"input": {"currentPassword": member.password,
                                                 "newPassword": NEW_PASSWORD}}, token=member.token)
    token: str = data["changePassword"]["token"]
    return token


async def _refused_at_connect(server: Server, protocol: str, token: str) -> None:
    async with raw(server, protocol) as ws:
        await send(ws, {"type": "connection_init", "payload": {"authToken": token}})
        assert (await closed(ws))[0] == FORBIDDEN


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_forgetting_a_member_closes_their_sockets_and_no_one_elses(
    server: Server, api: Api, protocol: str
) -> None:
    member, bystander = await register(api), await register(api)
    async with raw(server, protocol) as mine, raw(server, protocol) as theirs:
        await initialised(mine, {"authToken": member.token})
        await initialised(theirs, {"authToken": bystander.token})
        await _live(mine, protocol)

        await api(FORGET_ME, {"password": member.password}, token=member.token)

        assert await closed(mine) == (FORBIDDEN, "Forbidden")
        await _live(theirs, protocol)  # the bystander's socket still serves them
    await _refused_at_connect(server, protocol, member.token)


async def test_gql_sees_the_forgotten_members_subscription_end_with_4403(
    server: Server, api: Api
) -> None:
    member = await register(api)
    with pytest.raises(Exception) as ended:  # gql wraps the close its own way
        async with gql_client(server, {"authToken": member.token}, NEW) as session:
            forgotten = False
            async for _ in session.subscribe(GraphQLRequest(EVENTS)):
                if not forgotten:  # once: later events may still arrive before the close
                    await api(FORGET_ME, {"password": member.password}, token=member.token)
                    forgotten = True
    assert close_code(ended.value) == FORBIDDEN


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_changing_the_password_closes_the_members_sockets_with_4403(
    server: Server, api: Api, protocol: str
) -> None:
    member = await register(api)
    async with raw(server, protocol) as ws:
        await initialised(ws, {"authToken": member.token})
        await _live(ws, protocol)

        await _change_password(api, member)

        assert (await closed(ws))[0] == FORBIDDEN


async def test_a_token_issued_before_a_password_change_is_refused_afterwards(
    server: Server, api: Api
) -> None:
    member = await register(api)
    await _change_password(api, member)

    assert await api(ME, token=member.token) == {"me": None}  # HTTP: no longer anyone
    for protocol in PROTOCOLS:
        await _refused_at_connect(server, protocol, member.token)

    fresh = (await api(LOGIN, {"input": {"username": member.username,
                                         "password": NEW_PASSWORD}}))["login"]["token"]
    assert await api(ME, token=fresh) == {"me": {"id": member.id}}
    async with gql_client(server, {"authToken": fresh}, NEW) as session:
        assert await session.execute(GraphQLRequest(ME)) == {"me": {"id": member.id}}


async def test_changing_the_password_answers_with_a_token_that_names_the_member(
    server: Server, api: Api
) -> None:
    member = await register(api)
    fresh = await _change_password(api, member)

    assert await api(ME, token=fresh) == {"me": {"id": member.id}}
    assert await api(ME, token=member.token) == {"me": None}
    async with gql_client(server, {"authToken": fresh}, NEW) as session:
        assert await session.execute(GraphQLRequest(ME)) == {"me": {"id": member.id}}


async def test_a_socket_opened_with_a_token_from_after_the_change_stays_open(
    server: Server, api: Api
) -> None:
    member = await register(api)
    await _change_password(api, member)
    fresh = (await api(LOGIN, {"input": {"username": member.username,
                                         "password": NEW_PASSWORD}}))["login"]["token"]
    async with raw(server, LEGACY) as ws:
        await initialised(ws, {"authToken": fresh})
        await _live(ws, LEGACY)
        await _live(ws, LEGACY, "again")  # served again, not closed behind the first answer


# Only scaled out: the embedded default is one process, with no other to write through.
@pytest.mark.parametrize("server", [SCALED_OUT], indirect=True)
async def test_a_change_made_through_another_process_closes_the_socket_too(
    server: Server, api: Api, request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings: dict[str, str] = request.getfixturevalue("scaled_out_settings")
    peer = start_server(tmp_path_factory.mktemp("identity-peer"), settings)
    try:
        member = await register(api)
        async with raw(server, NEW) as ws:
            await initialised(ws, {"authToken": member.token})
            await _live(ws, NEW)

            await Api(peer)(FORGET_ME, {"password": member.password}, token=member.token)

            assert (await closed(ws))[0] == FORBIDDEN
    finally:
        peer.stop()
