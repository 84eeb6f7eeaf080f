"""The event log as served: who sees which events, and what never leaves the server."""

from __future__ import annotations

import json

from tests.e2e.members import PASSWORD, Member, register
from tests.e2e.posts_api import EVENT_FIELDS, HISTORY, create
from tests.e2e.server import Api, code_of

EVENTS = f"""
query E($after: Position, $streamId: ID, $types: [String!], $first: Int) {{
  events(after: $after, streamId: $streamId, types: $types, first: $first) {{
    pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ {EVENT_FIELDS} }} }}
  }}
}}
"""
USER = "query U($u: String!) { user(username: $u) { id username displayName bio email } }"


async def _events(api: Api, token: str, **variables: object) -> list[dict[str, object]]:
    data = await api(EVENTS, dict(variables), token=token)
    return [edge["node"] for edge in data["events"]["edges"]]


async def test_reading_the_log_needs_a_caller(api: Api) -> None:
    assert code_of(await api.error(EVENTS)) == "UNAUTHENTICATED"


async def test_no_response_ever_contains_a_password_hash(api: Api, admin: Member) -> None:
    member = await register(api)
    change = "mutation C($i: ChangePasswordInput!) { changePassword(input: $i) { position } }"
    await api(change, {"i": {"currentPassword": PASSWORD, "newPassword": "a new long one"}},
              token=member.token)
    # The change retired the member's token: they sign in again.
    login = "mutation L($i: LoginInput!) { login(input: $i) { token } }"
    fresh = (await api(login, {"i": {"username": member.username,
                                     "password": "a new long one"}}))["login"]["token"]
    for token in (fresh, admin.token):
        response = await api.raw({"query": EVENTS,
                                  "variables": {"streamId": member.id, "first": 100}},
                                 token=token)
        raw = response.text
        assert '"UserRegistered"' in raw and '"PasswordChanged"' in raw
        assert "argon2" not in raw
        assert "passwordHash" not in raw and "password_hash" not in raw
    types = await api.raw({"query": "{ eventTypes { name dataSchema } }"})
    assert "passwordHash" not in types.text and "password_hash" not in types.text


async def test_email_in_event_data_is_shown_to_its_owner_and_admins_only(
    api: Api, admin: Member
) -> None:
    owner = await register(api)
    other = await register(api)
    # A published post by the owner makes the owner's post stream visible to others,
    # but never the owner's User stream.
    for viewer, expected in ((owner, owner.email), (admin, owner.email)):
        registered = await _events(api, viewer.token, streamId=owner.id, types=["UserRegistered"])
        assert registered[0]["data"]["email"] == expected  # type: ignore[index]
    assert await _events(api, other.token, streamId=owner.id) == []


async def test_members_see_their_own_streams_and_published_posts_only(api: Api) -> None:
    author = await register(api)
    reader = await register(api)
    draft = (await create(api, author.token, "Draft"))["post"]["id"]
    public = (await create(api, author.token, "Public", publish=True))["post"]["id"]
    assert await _events(api, reader.token, streamId=draft) == []
    seen = await _events(api, reader.token, streamId=public)
    assert [e["type"] for e in seen] == ["PostCreated", "PostPublished"]
    mine = await _events(api, author.token, streamId=draft)
    assert [e["type"] for e in mine] == ["PostCreated"]


async def test_admins_see_every_event_in_position_order(api: Api, admin: Member) -> None:
    author = await register(api)
    await create(api, author.token, "Draft")
    events = await _events(api, admin.token, first=100)
    positions = [int(e["position"]) for e in events]  # type: ignore[call-overload]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)


async def test_the_log_pages_by_position_cursor(api: Api, admin: Member) -> None:
    first = (await api(EVENTS, {"first": 2}, token=admin.token))["events"]
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    second = (await api(EVENTS, {"first": 2, "after": after}, token=admin.token))["events"]
    assert int(second["edges"][0]["node"]["position"]) > int(after)


async def test_forgetting_me_makes_my_personal_data_unreadable_everywhere(
    api: Api, admin: Member
) -> None:
    member = await register(api)
    update = "mutation U($i: UpdateProfileInput!) { updateProfile(input: $i) { position } }"
    await api(update, {"i": {"displayName": "Grace H.", "bio": "Compilers"}}, token=member.token)
    post_id = (await create(api, member.token, "Stays", publish=True))["post"]["id"]
    forgotten = await api("mutation F($p: String!) { forgetMe(password: $p) { id position } }",
                          {"p": PASSWORD}, token=member.token)
    assert forgotten["forgetMe"]["id"] == member.id

    shown = (await api(USER, {"u": member.username}, token=admin.token))["user"]
    assert shown["email"] is None
    assert shown["bio"] == ""
    assert "Grace" not in json.dumps(shown)
    log = await api.raw({"query": EVENTS, "variables": {"streamId": member.id}},
                        token=admin.token)
    assert member.email not in log.text
    assert "Grace H." not in log.text and "Compilers" not in log.text
    assert '"UserForgotten"' in log.text
    post = await api(f'query {{ post(id: "{post_id}") {{ title author {{ id displayName }} }} }}')
    assert post["post"]["title"] == "Stays"
    assert post["post"]["author"]["id"] == member.id
    assert "Grace" not in post["post"]["author"]["displayName"]


async def test_a_forgotten_member_can_no_longer_log_in(api: Api) -> None:
    member = await register(api)
    await api("mutation F($p: String!) { forgetMe(password: $p) { id } }", {"p": PASSWORD},
              token=member.token)
    login = "mutation L($i: LoginInput!) { login(input: $i) { token } }"
    error = await api.error(login, {"i": {"username": member.username, "password": PASSWORD}})
    assert code_of(error) == "UNAUTHENTICATED"


async def test_forgetting_me_needs_my_password(api: Api) -> None:
    member = await register(api)
    error = await api.error("mutation F($p: String!) { forgetMe(password: $p) { id } }",
                            {"p": "not my password"}, token=member.token)
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "password"


async def test_only_admins_forget_other_members(api: Api, admin: Member) -> None:
    target = await register(api)
    other = await register(api)
    forget = "mutation F($id: ID!) { forgetUser(id: $id) { id position } }"
    assert code_of(await api.error(forget, {"id": target.id}, token=other.token)) == "FORBIDDEN"
    done = await api(forget, {"id": target.id}, token=admin.token)
    assert done["forgetUser"]["id"] == target.id
    shown = (await api(USER, {"u": target.username}, token=admin.token))["user"]
    assert shown["email"] is None


async def test_history_is_redacted_like_the_log(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    history = await api.raw({"query": HISTORY, "variables": {"id": post_id}})
    assert history.status_code == 200
    assert "argon2" not in history.text


async def test_the_event_catalogue_lists_every_type_with_its_schema(api: Api) -> None:
    types = (await api("{ eventTypes { name streamType schemaVersion dataSchema } }"))
    by_name = {t["name"]: t for t in types["eventTypes"]}
    assert {"UserRegistered", "PostCreated", "PostLiked", "CommentAdded"} <= by_name.keys()
    assert by_name["PostCreated"]["schemaVersion"] == 2
    assert by_name["PostCreated"]["streamType"] == "Post"
    assert "title" in json.dumps(by_name["PostCreated"]["dataSchema"])
