"""The token check answered from memory (resolvers/credentials.py) is as prompt as the table.

Every authenticated request checks its token against the member's role,
forgotten flag and credential version. The server keeps those in memory,
forgotten by the users projection's notices: a password change, a forgotten
member or a promotion counts from the next request after the write returned,
as when every request read the table.
"""

from __future__ import annotations

import re

import httpx

from tests.e2e.members import PASSWORD, promote, register
from tests.e2e.server import Api, Server, code_of

ME = "{ me { id role } }"
CHANGE = """mutation C($input: ChangePasswordInput!) {
  changePassword(input: $input) { token user { id } } }"""
FORGET = "mutation F($password: String!) { forgetMe(password: $password) { id } }"
PROJECTIONS = "{ projections { name } }"
PROFILE = """mutation P($input: UpdateProfileInput!) {
  updateProfile(input: $input) { user { id } } }"""


def memory_hits(server: Server) -> float:
    text = httpx.get(f"{server.base}/metrics", timeout=30).text
    found = re.search(r"^chronicle_credentials_memory_hits_total (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def me(api: Api, token: str) -> dict[str, str] | None:
    found: dict[str, str] | None = (await api(ME, token=token))["me"]
    return found


async def test_a_members_token_is_checked_from_memory(server: Server, api: Api) -> None:
    member = await register(api)
    await me(api, member.token)
    hits = memory_hits(server)
    for _ in range(3):
        assert (await me(api, member.token)) == {"id": member.id, "role": "MEMBER"}
    assert memory_hits(server) >= hits + 3


async def test_a_changed_password_retires_the_old_token_at_once(api: Api) -> None:
    member = await register(api)
    for _ in range(3):
        assert await me(api, member.token) is not None  # known in memory now
    changed = await api(CHANGE, {"input": {"currentPassword": PASSWORD,
                                           "newPassword": "another long secret"}},
                        token=member.token)
    assert await me(api, member.token) is None
    error = await api.error(PROFILE, {"input": {"displayName": "x"}}, token=member.token)
    assert code_of(error) == "UNAUTHENTICATED"
    assert (await me(api, changed["changePassword"]["token"])) == {
        "id": member.id, "role": "MEMBER"}


async def test_a_forgotten_members_token_names_nobody_at_once(api: Api) -> None:
    member = await register(api)
    for _ in range(3):
        assert await me(api, member.token) is not None
    await api(FORGET, {"password": PASSWORD}, token=member.token)
    assert await me(api, member.token) is None


async def test_a_promotion_from_another_process_counts_once_the_server_shows_it(
    server: Server, api: Api
) -> None:
    member = await register(api)
    assert code_of(await api.error(PROJECTIONS, token=member.token)) == "FORBIDDEN"
    promote(server, member.username, member.token)  # returns once `me` reads ADMIN
    assert (await api(PROJECTIONS, token=member.token))["projections"]
