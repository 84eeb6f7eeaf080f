"""Over real sockets, with tight limits: each caller's budget per minute, registrations per
address, and a /metrics guarded by a token.

Each test speaks from addresses of its own (``X-Forwarded-For``, which uvicorn
takes from a local proxy), so the tests share the server but no quota.
"""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.members import REGISTER, Member
from tests.e2e.server import Api, Server, code_of, unique

BUDGET = 300
METRICS_TOKEN = "scrape-" + uuid.uuid4().hex
SERVER_SETTINGS = {
    "CHRONICLE_COST_BUDGET_PER_MINUTE": str(BUDGET),
    "CHRONICLE_REGISTRATIONS_PER_WINDOW": "2",
    "CHRONICLE_REGISTRATION_WINDOW_SECONDS": "600",
    "CHRONICLE_METRICS_TOKEN": METRICS_TOKEN,
}
PAGE = "{ posts(first: 100) { edges { node { id } } } }"
PAGE_COST = 101


def address() -> str:
    """A documentation address (RFC 5737) no other test uses."""
    n = uuid.uuid4().int
    return f"198.51.{n % 250}.{(n >> 8) % 250 + 1}"


def sent_from(client: str) -> dict[str, str]:
    return {"X-Forwarded-For": client}


def signup(username: str) -> dict[str, object]:
    return {"input": {"username": username, "email": f"{username}@example.org",
                      "password": "correct horse battery"}}


async def register_from(api: Api, client: str) -> Member:
    username = unique("q")
    data = await api(REGISTER, signup(username), headers=sent_from(client))
    payload = data["register"]
    return Member(payload["user"]["id"], username, f"{username}@example.org", payload["token"])


async def test_a_member_spending_the_minutes_budget_is_rate_limited(api: Api) -> None:
    member = await register_from(api, address())
    for remaining in (BUDGET - PAGE_COST, BUDGET - 2 * PAGE_COST):
        body = (await api.raw({"query": PAGE}, token=member.token)).json()
        assert body["extensions"]["cost"]["remaining"] == remaining
    answer = await api.raw({"query": PAGE}, token=member.token)
    refused = answer.json()
    error = refused["errors"][0]
    assert code_of(error) == "RATE_LIMITED"
    assert 1 <= error["extensions"]["retryAfter"] <= 60
    assert answer.headers["Retry-After"] == str(error["extensions"]["retryAfter"])
    assert refused["extensions"]["cost"]["remaining"] == BUDGET - 2 * PAGE_COST
    # what is left still pays for a cheaper operation
    assert await api("{ headPosition }", token=member.token)


async def test_an_answer_within_the_budget_carries_no_retry_after(api: Api) -> None:
    answer = await api.raw({"query": "{ headPosition }"}, headers=sent_from(address()))
    assert "errors" not in answer.json()
    assert "Retry-After" not in answer.headers


async def test_anonymous_callers_are_budgeted_by_their_address(api: Api) -> None:
    busy, other = address(), address()
    for _ in range(BUDGET // PAGE_COST):
        await api(PAGE, headers=sent_from(busy))
    assert code_of(await api.error(PAGE, headers=sent_from(busy))) == "RATE_LIMITED"
    assert await api(PAGE, headers=sent_from(other))


async def test_a_cached_answer_spends_from_the_same_budget(api: Api) -> None:
    client = address()
    learn = "query Learn { posts(first: 100) { edges { node { title } } } }"
    await api(learn, headers=sent_from(address()))  # cached from elsewhere
    await api(learn, headers=sent_from(client))  # anonymous callers share the entry
    await api(learn, headers=sent_from(client))
    assert code_of(await api.error(learn, headers=sent_from(client))) == "RATE_LIMITED"


async def test_registrations_from_one_address_are_throttled(api: Api) -> None:
    client = address()
    await register_from(api, client)
    await register_from(api, client)
    error = await api.error(REGISTER, signup(unique("q")), headers=sent_from(client))
    assert code_of(error) == "RATE_LIMITED"
    assert 1 <= error["extensions"]["retryAfter"] <= 600
    await register_from(api, address())  # others register as before


async def test_several_registrations_in_one_operation_count_one_by_one(api: Api) -> None:
    names = [unique("q") for _ in range(3)]
    document = "mutation R($a: RegisterInput!, $b: RegisterInput!, $c: RegisterInput!) {" + "".join(
        f" {alias}: register(input: ${alias}) {{ token }}" for alias in "abc"
    ) + " }"
    variables = {alias: signup(name)["input"] for alias, name in zip("abc", names, strict=True)}
    error = await api.error(document, variables, headers=sent_from(address()))
    assert code_of(error) == "RATE_LIMITED"


def test_metrics_want_the_token_when_one_is_set(server: Server) -> None:
    url = f"{server.base}/metrics"
    assert httpx.get(url).status_code == 403  # loopback alone is not enough then
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 403
    scraped = httpx.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}",
                                      "X-Forwarded-For": "203.0.113.7"})
    assert scraped.status_code == 200
    assert "chronicle_http_requests_total" in scraped.text
