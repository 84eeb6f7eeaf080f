"""Read-your-writes by position, and the guards every operation passes first."""

from __future__ import annotations

from typing import Any

from tests.e2e.members import register
from tests.e2e.posts_api import POST, create
from tests.e2e.server import Api, code_of


async def test_a_read_at_a_position_reflects_the_write_that_returned_it(api: Api) -> None:
    author = await register(api)
    payload = await create(api, author.token, "Fresh", publish=True)
    data = await api(POST, {"id": payload["post"]["id"]},
                     headers={"X-Min-Position": payload["position"]})
    assert data["post"]["title"] == "Fresh"


async def test_a_malformed_min_position_is_bad_user_input(api: Api) -> None:
    error = await api.error("{ headPosition }", headers={"X-Min-Position": "soon"})
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "minPosition"


async def _refusal(api: Api, document: str) -> dict[str, Any]:
    """Sent as raw JSON: gql would refuse to send what does not parse."""
    body = (await api.raw({"query": document})).json()
    assert body.get("data") is None
    return dict(body["errors"][0])


def _nested(depth: int) -> str:
    selection = "id"
    for _ in range(depth):
        selection = f"author {{ posts {{ edges {{ node {{ {selection} }} }} }} }}"
    return f"{{ posts {{ edges {{ node {{ {selection} }} }} }} }}"


async def test_queries_nested_too_deeply_are_refused(api: Api) -> None:
    assert code_of(await _refusal(api, _nested(4))) == "BAD_USER_INPUT"
    assert "posts" in await api(_nested(1))


async def test_too_many_aliases_are_refused(api: Api) -> None:
    aliases = " ".join(f"h{i}: headPosition" for i in range(40))
    assert code_of(await _refusal(api, f"{{ {aliases} }}")) == "BAD_USER_INPUT"


async def test_too_many_tokens_are_refused(api: Api) -> None:
    fields = " ".join("__typename" for _ in range(2500))
    assert code_of(await _refusal(api, f"{{ {fields} }}")) == "BAD_USER_INPUT"


async def test_a_syntax_error_is_bad_user_input(api: Api) -> None:
    assert code_of(await _refusal(api, "{ headPosition ")) == "BAD_USER_INPUT"


async def test_an_unknown_field_is_bad_user_input(api: Api) -> None:
    assert code_of(await _refusal(api, "{ everything }")) == "BAD_USER_INPUT"


async def test_pages_above_a_hundred_are_refused_naming_first(api: Api) -> None:
    error = await api.error("{ posts(first: 101) { edges { cursor } } }")
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "first"
    assert (await api("{ posts(first: 100) { totalCount } }"))["posts"]["totalCount"] >= 0
