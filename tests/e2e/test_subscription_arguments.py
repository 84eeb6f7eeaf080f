"""Subscription arguments are held to the same rule as query arguments (resolvers.arguments).

Text no stored row could hold (a NUL, another control character) never reaches
the database: a filter with it is BAD_USER_INPUT naming the argument, an id
with it names nothing. PostgreSQL would refuse the NUL outright, so without
the rule these answered INTERNAL there.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.members import register
from tests.e2e.server import Api, Server
from tests.e2e.sockets import NEW, initialised, raw, receive, subscribe

BAD_TEXT = "a\x00b"


async def first_answer(server: Server, token: str, query: str,
                       variables: dict[str, Any]) -> dict[str, Any]:
    async with raw(server, NEW) as ws:
        await initialised(ws, {"authToken": token})
        await subscribe(ws, NEW, "1", query, variables)
        return await receive(ws)


def code_of(message: dict[str, Any]) -> tuple[str, str | None]:
    # Refused before its first result (an ``error`` message) or by its first result.
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    extensions = errors[0].get("extensions") or {}
    return extensions.get("code"), extensions.get("field")


@pytest.mark.parametrize(("query", "variables", "field"), [
    ("subscription($t: String) { feed(tag: $t) { change } }", {"t": BAD_TEXT}, "tag"),
    ("subscription($a: String) { feed(authorUsername: $a) { change } }", {"a": BAD_TEXT},
     "authorUsername"),
    ("subscription($t: [String!]) { events(types: $t) { id } }", {"t": [BAD_TEXT]}, "types"),
])
async def test_a_filter_no_row_could_match_is_bad_user_input(
    server: Server, api: Api, query: str, variables: dict[str, Any], field: str
) -> None:
    member = await register(api)

    answer = await first_answer(server, member.token, query, variables)

    assert code_of(answer) == ("BAD_USER_INPUT", field)


@pytest.mark.parametrize("query", [
    "subscription($id: ID!) { postChanged(id: $id) { id } }",
    "subscription($id: ID!) { commentAdded(postId: $id) { id } }",
])
async def test_an_id_no_log_could_hold_names_no_post(
    server: Server, api: Api, query: str
) -> None:
    member = await register(api)

    answer = await first_answer(server, member.token, query, {"id": BAD_TEXT})

    assert code_of(answer)[0] == "NOT_FOUND"


async def test_a_stream_id_no_log_could_hold_is_bad_user_input(
    server: Server, api: Api
) -> None:
    member = await register(api)

    answer = await first_answer(
        server, member.token, "subscription($s: ID) { events(streamId: $s) { id } }",
        {"s": BAD_TEXT},
    )

    assert code_of(answer) == ("BAD_USER_INPUT", "streamId")
