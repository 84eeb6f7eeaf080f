"""An event recorded in the log that the posts projection cannot apply never stops the service.

The poison is appended straight through the event store (no command would
accept it): a post without a title, which no backend's read table can hold.
"""

from __future__ import annotations

import uuid

import httpx

from events.catalog import PostCreated, PostPublished
from tests.e2e.members import Member, register
from tests.e2e.posts_api import create
from tests.e2e.server import Api, Server, code_of
from tests.integration.test_projections_kit import open_log

# A projection that stopped would turn every mutation into STALE_READ after this long.
SERVER_SETTINGS = {"CHRONICLE_READ_WAIT_TIMEOUT": "5"}

PROJECTIONS = "{ projections { name state lag parkedEvents lastParkedError } }"
DEAD_LETTERS = """
query D($p: String!) { deadLetters(projection: $p) {
  projection position eventType streamId errorClass errorMessage heldBy attempts } }
"""
RETRY = """
mutation R($p: String!) { retryDeadLetters(projection: $p) {
  applied parked { position attempts } } }
"""


def database_url(server: Server) -> str:
    return server.env.get("CHRONICLE_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{server.env['CHRONICLE_DATA_DIR']}/chronicle.db"
    )


async def record_poison(server: Server, author_id: str) -> tuple[int, int]:
    """A post created without a title, then published: positions of both events."""
    post_id = str(uuid.uuid4())
    async with open_log(database_url(server)) as log:
        created = await log.append(
            f"post-{post_id}", PostCreated(post_id, author_id, None, "B")  # type: ignore[arg-type]
        )
        published = await log.append(f"post-{post_id}", PostPublished(post_id))
    return created, published


async def test_a_parked_event_degrades_but_never_stops_the_service(
    api: Api, server: Server, admin: Member
) -> None:
    author = await register(api)
    created, published = await record_poison(server, author.id)

    # Writes and reads by anyone carry on: the projection passed the parked events.
    post = await create(api, author.token, "After the poison", publish=True)
    assert int(post["position"]) > published
    read = await api("query P($id: ID!) { post(id: $id) { title } }", {"id": post["post"]["id"]})
    assert read["post"] == {"title": "After the poison"}

    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        ready = await http.get("/readyz")
        metrics = (await http.get("/metrics")).text
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["ready"] is True and body["projections"]["posts"] == "LIVE"
    assert body["parkedEvents"]["posts"] == 2 and body["degraded"]

    assert 'chronicle_projection_parked_events{projection="posts"} 2.0' in metrics

    statuses = {s["name"]: s for s in (await api(PROJECTIONS, token=admin.token))["projections"]}
    assert statuses["posts"]["state"] == "LIVE" and statuses["posts"]["parkedEvents"] == 2
    assert statuses["posts"]["lastParkedError"].startswith(f"position {created}: ")
    assert statuses["users"]["parkedEvents"] == 0

    letters = (await api(DEAD_LETTERS, {"p": "posts"}, token=admin.token))["deadLetters"]
    assert [(int(d["position"]), d["eventType"]) for d in letters] == [
        (created, "PostCreated"), (published, "PostPublished")
    ]
    assert letters[0]["heldBy"] is None and letters[0]["errorClass"] == "IntegrityError"
    assert letters[1]["errorClass"] == "HeldBack" and int(letters[1]["heldBy"]) == created

    # Nothing fixed the cause: a retry keeps them, one attempt more.
    retried = (await api(RETRY, {"p": "posts"}, token=admin.token))["retryDeadLetters"]
    assert retried["applied"] == []
    assert [d["attempts"] for d in retried["parked"]] == [2, 2]
    done = server.cli("projections", "retry", "posts")
    assert done.returncode == 2 and "0 applied, 2 still parked" in done.stdout, done.stdout


async def test_only_admins_see_and_retry_parked_events(api: Api) -> None:
    member = await register(api)
    assert code_of(await api.error(DEAD_LETTERS, {"p": "posts"}, token=member.token)) == (
        "FORBIDDEN"
    )
    assert code_of(await api.error(RETRY, {"p": "posts"}, token=member.token)) == "FORBIDDEN"
    assert code_of(await api.error(DEAD_LETTERS, {"p": "posts"})) == "UNAUTHENTICATED"


async def test_dead_letters_of_an_unknown_projection_are_not_found(
    api: Api, admin: Member
) -> None:
    error = await api.error(DEAD_LETTERS, {"p": "nope"}, token=admin.token)
    assert code_of(error) == "NOT_FOUND"
