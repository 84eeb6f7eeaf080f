"""GraphQL documents and small steps shared by the post scenarios."""

from __future__ import annotations

from typing import Any

from tests.e2e.server import Api

POST_FIELDS = """
  id title body tags status version createdAt updatedAt publishedAt
  commentCount likeCount likedByMe author { id username }
"""


def _post_mutation(signature: str, call: str) -> str:
    return f"mutation M{signature} {{ {call} {{ position post {{ {POST_FIELDS} }} }} }}"


CREATE = _post_mutation("($input: CreatePostInput!)", "createPost(input: $input)")
EDIT = _post_mutation("($input: EditPostInput!)", "editPost(input: $input)")
PUBLISH = _post_mutation("($id: ID!, $v: Int)", "publishPost(id: $id, expectedVersion: $v)")
ARCHIVE = _post_mutation("($id: ID!, $v: Int)", "archivePost(id: $id, expectedVersion: $v)")
RESTORE = _post_mutation("($id: ID!, $version: Int!, $v: Int)",
                         "restorePost(id: $id, version: $version, expectedVersion: $v)")
LIKE = _post_mutation("($id: ID!)", "likePost(id: $id)")
UNLIKE = _post_mutation("($id: ID!)", "unlikePost(id: $id)")
DELETE = """
mutation D($id: ID!, $v: Int) { deletePost(id: $id, expectedVersion: $v) { id position } }
"""
POST = f"query P($id: ID!) {{ post(id: $id) {{ {POST_FIELDS} }} }}"
EVENT_FIELDS = """
  id position streamId streamType version type schemaVersion data occurredAt
  actorId correlationId causationId
"""
HISTORY = f"query H($id: ID!) {{ post(id: $id) {{ history {{ {EVENT_FIELDS} }} }} }}"
HEAD = "{ headPosition }"


async def create(api: Api, token: str, title: str = "A title", *, publish: bool = False,
                 tags: list[str] | None = None, body: str = "Some body",
                 key: str | None = None) -> dict[str, Any]:
    data = await api(CREATE, {"input": {"title": title, "body": body, "tags": tags or [],
                                        "publish": publish, "idempotencyKey": key}},
                     token=token)
    return dict(data["createPost"])


async def head(api: Api) -> int:
    return int((await api(HEAD))["headPosition"])
