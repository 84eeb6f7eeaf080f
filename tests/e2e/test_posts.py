"""Posts through their life: drafts, publishing, editing, archiving, deleting, restoring."""

from __future__ import annotations

from tests.e2e.members import Member, register
from tests.e2e.posts_api import (
    ARCHIVE,
    CREATE,
    DELETE,
    EDIT,
    HISTORY,
    POST,
    PUBLISH,
    RESTORE,
    create,
    head,
)
from tests.e2e.server import Api, code_of


async def test_a_new_post_is_a_draft_by_its_author(api: Api) -> None:
    author = await register(api)
    payload = await create(api, author.token, "First", tags=["Python", "python", "ES"])
    post = payload["post"]
    assert post["title"] == "First"
    assert post["status"] == "DRAFT"
    assert post["version"] == 1
    assert post["tags"] == ["python", "es"]  # lower-cased, duplicates dropped
    assert post["author"]["username"] == author.username
    assert post["publishedAt"] is None
    assert int(payload["position"]) > 0


async def test_creating_a_post_needs_a_caller(api: Api) -> None:
    error = await api.error(CREATE, {"input": {"title": "t", "body": "b"}})
    assert code_of(error) == "UNAUTHENTICATED"


async def test_an_empty_title_is_bad_user_input_on_title(api: Api) -> None:
    author = await register(api)
    error = await api.error(CREATE, {"input": {"title": "  ", "body": "b"}}, token=author.token)
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "title"


async def test_a_missing_title_variable_is_bad_user_input_on_title(api: Api) -> None:
    author = await register(api)
    error = await api.error(CREATE, {"input": {"body": "b"}}, token=author.token)
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "title"


async def test_drafts_are_visible_to_their_author_and_admins_only(
    api: Api, admin: Member
) -> None:
    author = await register(api)
    other = await register(api)
    post_id = (await create(api, author.token))["post"]["id"]
    assert (await api(POST, {"id": post_id}, token=author.token))["post"]["id"] == post_id
    assert (await api(POST, {"id": post_id}, token=admin.token))["post"]["id"] == post_id
    assert (await api(POST, {"id": post_id}, token=other.token))["post"] is None
    assert (await api(POST, {"id": post_id}))["post"] is None


async def test_publishing_puts_the_post_in_the_public_feed(api: Api) -> None:
    author = await register(api)
    tag = author.username[-8:]
    post_id = (await create(api, author.token, tags=[tag]))["post"]["id"]
    published = (await api(PUBLISH, {"id": post_id}, token=author.token))["publishPost"]
    assert published["post"]["status"] == "PUBLISHED"
    assert published["post"]["publishedAt"] is not None
    feed = """
    query F($tag: String) { posts(tag: $tag) { totalCount edges { node { id status } } } }
    """
    listing = (await api(feed, {"tag": tag}))["posts"]
    assert listing["totalCount"] == 1
    assert listing["edges"][0]["node"] == {"id": post_id, "status": "PUBLISHED"}
    assert (await api(POST, {"id": post_id}))["post"]["id"] == post_id


async def test_only_the_author_edits_a_published_post(api: Api) -> None:
    author = await register(api)
    other = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    error = await api.error(EDIT, {"input": {"id": post_id, "title": "Mine now"}},
                            token=other.token)
    assert code_of(error) == "FORBIDDEN"
    edited = await api(EDIT, {"input": {"id": post_id, "title": "Better"}}, token=author.token)
    assert edited["editPost"]["post"]["title"] == "Better"
    assert edited["editPost"]["post"]["version"] == 3


async def test_editing_an_unknown_post_is_not_found(api: Api) -> None:
    author = await register(api)
    error = await api.error(EDIT, {"input": {"id": "00000000-0000-0000-0000-000000000000",
                                             "title": "x"}}, token=author.token)
    assert code_of(error) == "NOT_FOUND"


async def test_a_stale_expected_version_is_a_conflict_and_appends_nothing(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token))["post"]["id"]
    before = await head(api)
    error = await api.error(EDIT, {"input": {"id": post_id, "title": "Late", "expectedVersion": 7}},
                            token=author.token)
    assert code_of(error) == "CONFLICT"
    assert await head(api) == before
    history = (await api(HISTORY, {"id": post_id}, token=author.token))["post"]["history"]
    assert [e["type"] for e in history] == ["PostCreated"]
    current = (await api(POST, {"id": post_id}, token=author.token))["post"]
    assert current["title"] == "A title" and current["version"] == 1


async def test_the_right_expected_version_is_accepted(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token))["post"]["id"]
    data = await api(PUBLISH, {"id": post_id, "v": 1}, token=author.token)
    assert data["publishPost"]["post"]["version"] == 2


async def test_archiving_hides_the_post_from_others_and_admins_may_archive(
    api: Api, admin: Member
) -> None:
    author = await register(api)
    reader = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    archived = await api(ARCHIVE, {"id": post_id}, token=admin.token)
    assert archived["archivePost"]["post"]["status"] == "ARCHIVED"
    assert (await api(POST, {"id": post_id}, token=reader.token))["post"] is None
    assert (await api(POST, {"id": post_id}, token=author.token))["post"]["status"] == "ARCHIVED"
    republished = await api(PUBLISH, {"id": post_id}, token=author.token)
    assert republished["publishPost"]["post"]["status"] == "PUBLISHED"


async def test_a_member_cannot_archive_someone_elses_post(api: Api) -> None:
    author = await register(api)
    other = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    assert code_of(await api.error(ARCHIVE, {"id": post_id}, token=other.token)) == "FORBIDDEN"


async def test_a_draft_of_someone_else_is_not_found_not_forbidden(api: Api) -> None:
    author = await register(api)
    other = await register(api)
    post_id = (await create(api, author.token))["post"]["id"]
    assert code_of(await api.error(PUBLISH, {"id": post_id}, token=other.token)) == "NOT_FOUND"


async def test_deleting_is_final(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    deleted = (await api(DELETE, {"id": post_id}, token=author.token))["deletePost"]
    assert deleted["id"] == post_id
    assert int(deleted["position"]) > 0
    assert (await api(POST, {"id": post_id}, token=author.token))["post"] is None
    error = await api.error(EDIT, {"input": {"id": post_id, "title": "Back?"}},
                            token=author.token)
    assert code_of(error) == "NOT_FOUND"


async def test_restoring_brings_back_an_old_version_as_a_new_event(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token, "Original", tags=["one"]))["post"]["id"]
    await api(EDIT, {"input": {"id": post_id, "title": "Rewritten", "tags": ["two"]}},
              token=author.token)
    restored = await api(RESTORE, {"id": post_id, "version": 1}, token=author.token)
    post = restored["restorePost"]["post"]
    assert (post["title"], post["tags"], post["version"]) == ("Original", ["one"], 3)
    history = (await api(HISTORY, {"id": post_id}, token=author.token))["post"]["history"]
    assert [e["type"] for e in history] == ["PostCreated", "PostEdited", "PostRestored"]
    assert [e["version"] for e in history] == [1, 2, 3]


async def test_restoring_a_version_that_never_was_names_the_version(api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token))["post"]["id"]
    error = await api.error(RESTORE, {"id": post_id, "version": 5}, token=author.token)
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "version"


async def test_an_idempotency_key_makes_a_retry_return_the_first_post(api: Api) -> None:
    author = await register(api)
    first = await create(api, author.token, "Once", key="retry-me")
    before = await head(api)
    again = await create(api, author.token, "Once", key="retry-me")
    assert again["post"]["id"] == first["post"]["id"]
    assert again["position"] == first["position"]
    assert await head(api) == before
    other_key = await create(api, author.token, "Once", key="another")
    assert other_key["post"]["id"] != first["post"]["id"]


async def test_history_is_the_audit_trail_of_the_post(api: Api) -> None:
    author = await register(api)
    payload = await create(api, author.token)
    post_id = payload["post"]["id"]
    await api(PUBLISH, {"id": post_id}, token=author.token)
    history = (await api(HISTORY, {"id": post_id}, token=author.token))["post"]["history"]
    assert [e["type"] for e in history] == ["PostCreated", "PostPublished"]
    created = history[0]
    assert created["streamId"] == post_id and created["streamType"] == "Post"
    assert created["actorId"] == author.id
    assert created["position"] == payload["position"]
    assert created["data"]["title"] == "A title"
    assert "authorId" in created["data"]  # served camelCase
    assert created["schemaVersion"] == 2


async def test_listings_filter_by_status_author_and_search(api: Api, admin: Member) -> None:
    author = await register(api)
    other = await register(api)
    marker = author.username[-10:]
    draft = (await create(api, author.token, f"Draft {marker}"))["post"]["id"]
    public = (await create(api, author.token, f"Public {marker}", publish=True))["post"]["id"]
    listing = """
    query L($status: PostStatus, $author: String, $search: String) {
      posts(status: $status, authorUsername: $author, search: $search) {
        totalCount edges { node { id } }
      }
    }
    """

    async def ids(token: str | None, **variables: str) -> list[str]:
        data = await api(listing, variables, token=token)
        edges = data["posts"]["edges"]
        assert data["posts"]["totalCount"] == len(edges)
        return [e["node"]["id"] for e in edges]

    assert await ids(None, author=author.username) == [public]
    assert await ids(None, search=f"Public {marker}") == [public]
    assert await ids(author.token, status="DRAFT", author=author.username) == [draft]
    assert await ids(admin.token, status="DRAFT", author=author.username) == [draft]
    assert await ids(other.token, status="DRAFT", author=author.username) == []


async def test_a_member_page_lists_their_published_posts_and_counts_them(api: Api) -> None:
    author = await register(api)
    await create(api, author.token, "Unpublished")
    public = (await create(api, author.token, "Out there", publish=True))["post"]["id"]
    query = """
    query U($u: String!) {
      user(username: $u) { postCount posts { totalCount edges { node { id } } } }
    }
    """
    user = (await api(query, {"u": author.username}))["user"]
    assert user["postCount"] == 1
    assert [e["node"]["id"] for e in user["posts"]["edges"]] == [public]
