"""Time travel: a post at any version or instant, and the feed as it stood at any position."""

from __future__ import annotations

from tests.e2e.members import register
from tests.e2e.posts_api import ARCHIVE, EDIT, HISTORY, PUBLISH, create
from tests.e2e.server import Api, code_of

POST_AT = """
query A($id: ID!, $version: Int, $at: DateTime) {
  postAt(id: $id, version: $version, at: $at) {
    id authorId title body tags status deleted version asOf
  }
}
"""
FEED_AS_OF = """
query F($asOf: Position, $author: String) {
  posts(asOf: $asOf, authorUsername: $author) { totalCount edges { node { id title status } } }
}
"""


async def _known_history(api: Api) -> tuple[str, str, list[str]]:
    """v1 created "Draft", v2 published, v3 retitled "Second", v4 archived.

    Returns the author's token, the post id and the position after each version.
    """
    author = await register(api)
    created = await create(api, author.token, "Draft", tags=["t1"])
    post_id = created["post"]["id"]
    positions = [created["position"]]
    for document, variables in (
        (PUBLISH, {"id": post_id}),
        (EDIT, {"input": {"id": post_id, "title": "Second", "tags": ["t2"]}}),
        (ARCHIVE, {"id": post_id}),
    ):
        data = await api(document, variables, token=author.token)
        positions.append(next(iter(data.values()))["position"])
    return author.token, post_id, positions


async def test_post_at_a_version_is_the_state_after_that_event(api: Api) -> None:
    token, post_id, _ = await _known_history(api)
    expected = {1: ("Draft", "DRAFT", ["t1"]), 2: ("Draft", "PUBLISHED", ["t1"]),
                3: ("Second", "PUBLISHED", ["t2"]), 4: ("Second", "ARCHIVED", ["t2"])}
    for version, (title, status, tags) in expected.items():
        state = (await api(POST_AT, {"id": post_id, "version": version}, token=token))["postAt"]
        assert (state["title"], state["status"], state["tags"]) == (title, status, tags)
        assert state["version"] == version
        assert state["deleted"] is False
    latest = (await api(POST_AT, {"id": post_id}, token=token))["postAt"]
    assert latest["version"] == 4


async def test_post_at_an_instant_is_the_state_recorded_by_then(api: Api) -> None:
    token, post_id, _ = await _known_history(api)
    history = (await api(HISTORY, {"id": post_id}, token=token))["post"]["history"]
    for event in history:
        state = (await api(POST_AT, {"id": post_id, "at": event["occurredAt"]},
                           token=token))["postAt"]
        assert state["version"] == event["version"]
        assert state["asOf"] == event["occurredAt"]
    before = (await api(POST_AT, {"id": post_id, "at": "2000-01-01T00:00:00+00:00"},
                        token=token))["postAt"]
    assert before is None


async def test_a_version_below_one_is_bad_user_input(api: Api) -> None:
    token, post_id, _ = await _known_history(api)
    error = await api.error(POST_AT, {"id": post_id, "version": 0}, token=token)
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "version"


async def test_past_drafts_stay_private_to_others(api: Api) -> None:
    author = await register(api)
    reader = await register(api)
    post_id = (await create(api, author.token, "Secret draft"))["post"]["id"]
    await api(PUBLISH, {"id": post_id}, token=author.token)
    assert (await api(POST_AT, {"id": post_id, "version": 1}, token=reader.token))["postAt"] \
        is None
    published = (await api(POST_AT, {"id": post_id, "version": 2}, token=reader.token))
    assert published["postAt"]["status"] == "PUBLISHED"


async def test_the_feed_as_of_a_position_is_the_feed_the_read_model_then_held(api: Api) -> None:
    token, post_id, positions = await _known_history(api)
    author = (await api("{ me { username } }", token=token))["me"]["username"]

    async def feed_at(position: str, as_author: bool = True) -> list[tuple[str, str]]:
        data = await api(FEED_AS_OF, {"asOf": position, "author": author},
                         token=token if as_author else None)
        return [(e["node"]["id"], e["node"]["title"]) for e in data["posts"]["edges"]]

    assert await feed_at(positions[0]) == []  # a draft is not in the feed
    assert await feed_at(positions[1]) == [(post_id, "Draft")]
    assert await feed_at(positions[2]) == [(post_id, "Second")]
    assert await feed_at(positions[3]) == []  # archived
    assert await feed_at(str(int(positions[0]) - 1)) == []  # before it existed
    # archived now: to anyone but its author it has no public past (README)
    assert await feed_at(positions[1], as_author=False) == []


POSITION_AT = "query P($time: DateTime!) { positionAt(time: $time) }"


async def test_the_feed_as_of_a_time_is_the_feed_at_the_position_then(api: Api) -> None:
    token, post_id, positions = await _known_history(api)
    author = (await api("{ me { username } }", token=token))["me"]["username"]
    history = (await api(HISTORY, {"id": post_id}, token=token))["post"]["history"]

    async def feed_at_time(time: str) -> list[str]:
        position = (await api(POSITION_AT, {"time": time}))["positionAt"]
        data = await api(FEED_AS_OF, {"asOf": position, "author": author}, token=token)
        return [e["node"]["title"] for e in data["posts"]["edges"]]

    # each event was the last of its commit: its time answers its own position
    for event, position in zip(history, positions, strict=True):
        assert (await api(POSITION_AT, {"time": event["occurredAt"]}))["positionAt"] == position
    assert await feed_at_time(history[0]["occurredAt"]) == []       # a draft
    assert await feed_at_time(history[1]["occurredAt"]) == ["Draft"]
    assert await feed_at_time(history[2]["occurredAt"]) == ["Second"]
    assert await feed_at_time(history[3]["occurredAt"]) == []       # archived
    assert (await api(POSITION_AT, {"time": "2000-01-01T00:00:00Z"}))["positionAt"] == "0"
    future = (await api(POSITION_AT, {"time": "2999-01-01T00:00:00Z"}))["positionAt"]
    assert future == (await api("{ headPosition }"))["headPosition"]


async def test_a_malformed_time_for_position_at_is_bad_user_input(api: Api) -> None:
    for time in ("soon", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00"):
        error = await api.error(POSITION_AT, {"time": time})
        assert code_of(error) == "BAD_USER_INPUT", time


async def test_history_shows_others_no_more_of_the_past_than_post_at(api: Api) -> None:
    # security finding 4: history served the draft from before publication
    author = await register(api)
    reader = await register(api)
    post_id = (await create(api, author.token, "Draft title", body="draft-only words"))[
        "post"]["id"]
    await api(EDIT, {"input": {"id": post_id, "title": "Public title", "body": "public words"}},
              token=author.token)
    await api(PUBLISH, {"id": post_id}, token=author.token)

    anonymous = await api.raw({"query": HISTORY, "variables": {"id": post_id}})
    assert anonymous.json()["data"]["post"]["history"] == []
    as_reader = await api.raw({"query": HISTORY, "variables": {"id": post_id}},
                              token=reader.token)
    assert [e["type"] for e in as_reader.json()["data"]["post"]["history"]] == ["PostPublished"]
    for response in (anonymous, as_reader):
        assert "draft-only" not in response.text and "Draft title" not in response.text
    as_author = (await api(HISTORY, {"id": post_id}, token=author.token))["post"]["history"]
    assert [e["type"] for e in as_author] == ["PostCreated", "PostEdited", "PostPublished"]
