"""What a load balancer and an operator see: health, readiness, metrics, pages, request ids."""

from __future__ import annotations

import re

import httpx

from tests.e2e.members import register
from tests.e2e.server import Api, Server


def test_healthz_answers_while_the_process_is_alive(server: Server) -> None:
    response = httpx.get(f"{server.base}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_database_and_every_projection_live(server: Server) -> None:
    response = httpx.get(f"{server.base}/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert body["reasons"] == []
    assert body["projections"], "every projection is listed"
    assert set(body["projections"].values()) == {"LIVE"}


async def test_metrics_count_requests_and_errors_and_show_projection_lag(
    server: Server, api: Api
) -> None:
    await register(api)
    await api.error("{ projections { name } }")  # anonymous: UNAUTHENTICATED
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server.base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'chronicle_http_requests_total{method="POST",route="/graphql",status="200"}' in text
    assert 'chronicle_graphql_errors_total{code="UNAUTHENTICATED"}' in text
    assert "chronicle_projection_position{projection=" in text
    assert "chronicle_projection_lag_events{projection=" in text
    assert "chronicle_log_head_position" in text
    # the store's group-commit writer: append latency and group sizes
    assert "chronicle_append_latency_seconds_count" in text
    assert "chronicle_append_latency_seconds_sum" in text
    assert "chronicle_group_commit_size_max" in text
    assert "chronicle_group_commits_total" in text


def test_every_response_carries_a_request_id(server: Server) -> None:
    first = httpx.post(f"{server.graphql_url}", json={"query": "{ headPosition }"})
    second = httpx.post(f"{server.graphql_url}", json={"query": "{ headPosition }"})
    assert first.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_a_callers_request_id_is_kept_for_tracing(server: Server) -> None:
    response = httpx.get(f"{server.base}/healthz", headers={"X-Request-Id": "trace-me-42"})
    assert response.headers["x-request-id"] == "trace-me-42"


def test_browsers_get_graphiql_from_our_own_assets_never_a_cdn(server: Server) -> None:
    response = httpx.get(server.graphql_url, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "unpkg.com" not in page and "jsdelivr" not in page
    assert "GraphiQL" in page
    # every asset the page loads comes from this server (none when not built yet:
    # then the page says how to build it)
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        assert httpx.get(f"{server.base}{asset}").status_code == 200, asset
    assert re.search(r'(?:src|href)="(?:https?:)?//', page) is None


def test_the_home_page_leads_to_the_api(server: Server) -> None:
    response = httpx.get(f"{server.base}/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


def test_queries_may_be_sent_with_get_but_mutations_may_not(server: Server) -> None:
    query = httpx.get(server.graphql_url, params={"query": "{ headPosition }"})
    assert query.status_code == 200
    assert query.json()["data"]["headPosition"].isdigit()
    mutation = httpx.get(server.graphql_url,
                         params={"query": 'mutation { forgetMe(password: "x") { id } }'})
    assert mutation.status_code == 400
