"""Comments and likes on published posts, and a hot post liked by a hundred members at once."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.members import Member, register
from tests.e2e.posts_api import LIKE, POST, UNLIKE, create
from tests.e2e.server import Api, code_of

COMMENT_FIELDS = "id postId body createdAt editedAt author { id username }"
ADD = f"""
mutation A($input: AddCommentInput!) {{
  addComment(input: $input) {{ position comment {{ {COMMENT_FIELDS} }} }}
}}
"""
EDIT = f"""
mutation E($id: ID!, $body: String!) {{
  editComment(id: $id, body: $body) {{ position comment {{ {COMMENT_FIELDS} }} }}
}}
"""
DELETE = "mutation D($id: ID!) { deleteComment(id: $id) { id position } }"
COMMENTS = """
query C($id: ID!, $after: String) {
  post(id: $id) {
    commentCount
    comments(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id body } }
    }
  }
}
"""


async def _comment(api: Api, member: Member, post_id: str, body: str,
                   key: str | None = None) -> dict[str, object]:
    data = await api(ADD, {"input": {"postId": post_id, "body": body, "idempotencyKey": key}},
                     token=member.token)
    return dict(data["addComment"])


async def test_comments_show_on_the_post_oldest_first_with_pagination(api: Api) -> None:
    author = await register(api)
    reader = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    for body in ("one", "two", "three"):
        payload = await _comment(api, reader, post_id, body)
        assert payload["comment"]["author"]["id"] == reader.id  # type: ignore[index]
    page = (await api(COMMENTS, {"id": post_id}))["post"]
    assert page["commentCount"] == 3
    assert page["comments"]["totalCount"] == 3
    assert [e["node"]["body"] for e in page["comments"]["edges"]] == ["one", "two"]
    rest = await api(COMMENTS, {"id": post_id,
                                "after": page["comments"]["pageInfo"]["endCursor"]})
    assert [e["node"]["body"] for e in rest["post"]["comments"]["edges"]] == ["three"]


async def test_drafts_take_no_comments(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token))["post"]["id"]
    error = await api.error(ADD, {"input": {"postId": post_id, "body": "early"}},
                            token=author.token)
    assert code_of(error) == "FORBIDDEN"


async def test_only_the_comment_author_edits_it(api: Api) -> None:
    author = await register(api)
    commenter = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    comment_id = (await _comment(api, commenter, post_id, "frist"))["comment"]["id"]  # type: ignore[index]
    error = await api.error(EDIT, {"id": comment_id, "body": "hacked"}, token=author.token)
    assert code_of(error) == "FORBIDDEN"
    edited = (await api(EDIT, {"id": comment_id, "body": "first"},
                        token=commenter.token))["editComment"]["comment"]
    assert edited["body"] == "first" and edited["editedAt"] is not None


async def test_the_post_author_may_delete_a_comment_on_their_post(api: Api) -> None:
    author = await register(api)
    commenter = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    comment_id = (await _comment(api, commenter, post_id, "spam"))["comment"]["id"]  # type: ignore[index]
    deleted = (await api(DELETE, {"id": comment_id}, token=author.token))["deleteComment"]
    assert deleted["id"] == comment_id
    assert (await api(COMMENTS, {"id": post_id}))["post"]["commentCount"] == 0
    error = await api.error(DELETE, {"id": comment_id}, token=author.token)
    assert code_of(error) == "NOT_FOUND"


async def test_an_empty_comment_is_bad_user_input_on_body(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    error = await api.error(ADD, {"input": {"postId": post_id, "body": " "}}, token=author.token)
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "body"


async def test_a_retried_comment_with_the_same_key_is_added_once(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    first = await _comment(api, author, post_id, "once", key="comment-1")
    again = await _comment(api, author, post_id, "once", key="comment-1")
    assert again["comment"]["id"] == first["comment"]["id"]  # type: ignore[index]
    assert again["position"] == first["position"]
    assert (await api(COMMENTS, {"id": post_id}))["post"]["commentCount"] == 1


async def test_liking_twice_is_one_like_and_unliking_takes_it_back(api: Api) -> None:
    author = await register(api)
    fan = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    once = (await api(LIKE, {"id": post_id}, token=fan.token))["likePost"]["post"]
    twice = (await api(LIKE, {"id": post_id}, token=fan.token))["likePost"]["post"]
    assert (once["likeCount"], once["likedByMe"]) == (1, True)
    assert (twice["likeCount"], twice["likedByMe"]) == (1, True)
    assert (await api(POST, {"id": post_id}))["post"]["likedByMe"] is False  # anonymous
    unliked = (await api(UNLIKE, {"id": post_id}, token=fan.token))["unlikePost"]["post"]
    assert (unliked["likeCount"], unliked["likedByMe"]) == (0, False)
    again = (await api(UNLIKE, {"id": post_id}, token=fan.token))["unlikePost"]["post"]
    assert again["likeCount"] == 0


async def test_liking_needs_a_caller(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    assert code_of(await api.error(LIKE, {"id": post_id})) == "UNAUTHENTICATED"


@pytest.mark.slow
async def test_a_hundred_members_liking_one_post_at_once_all_succeed(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    # Registering is deliberately costly (argon2id): a few at a time, not a stampede.
    gate = asyncio.Semaphore(8)

    async def fan() -> Member:
        async with gate:
            return await register(api, "fan")

    fans = await asyncio.gather(*(fan() for _ in range(100)))
    results = await asyncio.gather(
        *(api(LIKE, {"id": post_id}, token=fan.token) for fan in fans), return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    assert (await api(POST, {"id": post_id}))["post"]["likeCount"] == 100
