"""Bad input over HTTP, on both backends: refused with the contract's codes, nothing
recorded, and the read side stays LIVE (a NUL once stopped PostgreSQL's for good)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.e2e.members import Member, register
from tests.e2e.posts_api import CREATE, EDIT, create, head
from tests.e2e.server import Api, Server, code_of

PROJECTIONS = "{ projections { name state position lastError } }"
UNSTORABLE = {"NUL": "\x00", "ESC": "\x1b", "DEL": "\x7f", "NEL (C1)": "\x85"}
ADD_COMMENT = "mutation C($input: AddCommentInput!) { addComment(input: $input) { position } }"
UPDATE = "mutation U($input: UpdateProfileInput!) { updateProfile(input: $input) { position } }"
REGISTER = "mutation R($input: RegisterInput!) { register(input: $input) { token } }"
CHANGE = """
mutation P($current: String!) {
  changePassword(input: {currentPassword: $current, newPassword: "brand new password"}) {
    position
  }
}
"""
FORGET = "mutation F($password: String!) { forgetMe(password: $password) { id } }"
LOGIN = """
mutation L($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }
"""


def writes(text: str, post_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(field, document, variables) of every mutation carrying ``text`` in one field."""
    post = {"title": "t", "body": "b"}
    return [
        ("title", CREATE, {"input": {**post, "title": f"a{text}"}}),
        ("body", CREATE, {"input": {**post, "body": f"a{text}"}}),
        ("tags", CREATE, {"input": {**post, "tags": [f"a{text}"]}}),
        ("idempotencyKey", CREATE, {"input": {**post, "idempotencyKey": f"k{text}"}}),
        ("title", EDIT, {"input": {"id": post_id, "title": f"a{text}"}}),
        ("body", ADD_COMMENT, {"input": {"postId": post_id, "body": f"a{text}"}}),
        ("displayName", UPDATE, {"input": {"displayName": f"a{text}"}}),
        ("bio", UPDATE, {"input": {"bio": f"a{text}"}}),
        ("email", REGISTER, {"input": {"username": "someone_new", "password": "password 1",
                                       "email": f"a{text}@example.org"}}),
    ]


async def assert_read_side_live(api: Api, admin: Member, author: Member) -> None:
    """A write after the refusals is projected, and every projection is LIVE."""
    written = await create(api, author.token, "Still writing", publish=True)
    statuses = (await api(PROJECTIONS, token=admin.token,
                          headers={"X-Min-Position": written["position"]}))["projections"]
    assert statuses and all(s["state"] == "LIVE" and s["lastError"] is None for s in statuses)
    assert all(int(s["position"]) >= int(written["position"]) for s in statuses)


async def test_text_no_storage_can_hold_is_refused_and_the_read_side_stays_live(
    api: Api, admin: Member
) -> None:
    author = await register(api)
    post = await create(api, author.token, publish=True)
    before = await head(api)
    for name, text in UNSTORABLE.items():
        for field, document, variables in writes(text, post["post"]["id"]):
            error = await api.error(document, variables, token=author.token)

            assert (code_of(error), error["extensions"]["field"]) == ("BAD_USER_INPUT", field), (
                name, field)
    assert await head(api) == before
    await assert_read_side_live(api, admin, author)


async def test_a_lone_surrogate_is_not_json_text_and_is_refused_at_the_door(
    server: Server, api: Api, admin: Member
) -> None:
    author = await register(api)
    before = await head(api)
    # json.dumps escapes it as \\ud800, as JavaScript's JSON.stringify does
    body = json.dumps({"query": CREATE, "variables": {"input": {"title": "a\ud800", "body": "b"}}})

    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(server.graphql_url, content=body, headers={
            "content-type": "application/json", "authorization": f"Bearer {author.token}"})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "surrogate" in error["message"]
    assert await head(api) == before
    await assert_read_side_live(api, admin, author)


async def test_newlines_tabs_and_carriage_returns_stay_in_bodies(api: Api) -> None:
    author = await register(api)
    written = await create(api, author.token, body="one\r\n\ttwo\n")
    assert written["post"]["body"] == "one\r\n\ttwo\n"


async def test_a_position_past_the_head_is_a_stale_read_at_once(api: Api) -> None:
    current = await head(api)
    started = time.monotonic()

    response = await api.raw({"query": "{ headPosition }"},
                             headers={"X-Min-Position": str(current + 1000)})

    assert time.monotonic() - started < 5  # the read wait of these servers is 15 s
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "STALE_READ"
    assert error["extensions"]["position"] == str(current + 1000)
    assert int(error["extensions"]["head"]) >= current


@pytest.mark.parametrize("position", ["9" * 5000, str(2**63), "-1", "0x10"])
async def test_a_position_no_log_can_reach_is_bad_user_input(api: Api, position: str) -> None:
    for where in ({"headers": {"X-Min-Position": position}},
                  {"extensions": {"minPosition": position}}):
        error = await api.error("{ headPosition }", **where)

        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "minPosition"}, where
        assert "Exceeds" not in error["message"]


async def test_the_largest_position_is_accepted_as_one_the_log_has_not_reached(api: Api) -> None:
    error = await api.error("{ headPosition }", headers={"X-Min-Position": str(2**63 - 1)})
    assert code_of(error) == "STALE_READ"


@pytest.mark.parametrize(("document", "variables"), [
    (CHANGE, {"current": "a wrong guess"}),
    (FORGET, {"password": "a wrong guess"}),
])
async def test_guessing_the_password_with_a_token_is_throttled_like_logging_in(
    api: Api, document: str, variables: dict[str, Any]
) -> None:
    member = await register(api)
    for _ in range(3):  # CHRONICLE_LOGIN_MAX_FAILURES in these servers
        assert code_of(await api.error(document, variables, token=member.token)) == (
            "BAD_USER_INPUT")

    limited = await api.error(document, variables, token=member.token)

    assert code_of(limited) == "RATE_LIMITED"
    assert limited["extensions"]["retryAfter"] >= 1
    login = await api.error(LOGIN, {"u": member.username, "p": member.password})
    assert code_of(login) == "RATE_LIMITED"
