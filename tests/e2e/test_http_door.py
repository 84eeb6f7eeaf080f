"""GraphQL over HTTP at the door: every malformed request is a GraphQL-shaped 4xx.

Nothing here reaches the database, so one server (SQLite) serves the module.
A query seen before may be answered from the response cache
(chronicle/response_cache.py): the media-type and extensions cases ask twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import start_server
from tests.e2e.server import Server

MIB = 1024 * 1024
GRAPHQL_RESPONSE = "application/graphql-response+json"
APOLLO_4 = f"{GRAPHQL_RESPONSE}, application/json;q=0.9"
PLANNED = "query Head { headPosition }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("chronicle-door"), {})
    try:
        yield running
    finally:
        running.stop()


def post(server: Server, content: bytes | str | Any, **headers: str) -> httpx.Response:
    return httpx.post(server.graphql_url, content=content, timeout=30,
                      headers={"content-type": "application/json", **headers})


def refused(response: httpx.Response, status: int = 400) -> str:
    """The one error of a request refused before any GraphQL ran; its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    return str(error["message"])


MALFORMED = {
    "null": b"null",
    "a number": b"5",
    "a string": b'"str"',
    "true": b"true",
    "a list (no batching)": b"[]",
    "an empty object": b"{}",
    "no body": b"",
    "cut short": b'{"query": "{ headPosition }"',
    "nested 100 000 deep": b"[" * 100_000 + b"]" * 100_000,
    "an object nested 100 000 deep": b'{"query":' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001,
    "invalid UTF-8": b'{"query": "{ headPosition }\xff\xfe"}',
    "a 5 000-digit integer": b'{"query": "{ headPosition }", "variables": {"n": '
                             + b"9" * 5000 + b"}}",
    "a lone surrogate": b'{"query": "{ headPosition }", "variables": {"s": "\\ud800"}}',
    "a query that is no string": b'{"query": 5}',
    "a null query": b'{"query": null}',
    "variables that are a list": b'{"query": "{ headPosition }", "variables": [1]}',
    "variables that are a string": b'{"query": "{ headPosition }", "variables": "x"}',
    "extensions that are a number": b'{"query": "{ headPosition }", "extensions": 5}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_body_is_a_graphql_error_never_a_500(server: Server, body: bytes) -> None:
    message = refused(post(server, body))
    assert "Traceback" not in message


@pytest.mark.parametrize("extensions", [b"0", b"false", b'""', b"[]"])
def test_a_query_seen_before_with_malformed_extensions_is_refused_too(
    server: Server, extensions: bytes
) -> None:
    for _ in range(2):  # now its answer may be cached
        assert post(server, f'{{"query": "{PLANNED}"}}').status_code == 200

    refused(post(server, f'{{"query": "{PLANNED}", "extensions": '.encode() + extensions + b"}"))


@pytest.mark.parametrize("accept", ["application/json", APOLLO_4])
def test_a_malformed_body_is_refused_in_the_media_type_asked_for(
    server: Server, accept: str
) -> None:
    response = post(server, b"null", accept=accept)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(accept.partition(",")[0])


def test_a_body_with_a_byte_order_mark_is_still_read(server: Server) -> None:
    response = post(server, b'\xef\xbb\xbf{"query": "{ headPosition }"}')
    assert response.status_code == 200
    assert response.json()["data"]["headPosition"].isdigit()


def test_an_unsupported_content_type_is_a_graphql_error(server: Server) -> None:
    refused(post(server, "query=%7BheadPosition%7D",
                 **{"content-type": "application/x-www-form-urlencoded"}))


def test_a_body_past_the_limit_is_refused_by_its_content_length(server: Server) -> None:
    padding = "a" * MIB
    message = refused(post(server, f'{{"query": "{{ headPosition }}", "x": "{padding}"}}'), 413)
    assert str(MIB) in message


def test_a_streamed_body_is_cut_off_at_the_limit(server: Server) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"query": "{ headPosition }", "x": "'
        for _ in range(64):
            yield b"a" * 32 * 1024
        yield b'"}'

    refused(post(server, chunks()), 413)


def test_a_body_within_the_limit_is_answered(server: Server) -> None:
    padding = "a" * (MIB - 100)
    response = post(server, f'{{"query": "{{ headPosition }}", "variables": {{"x": "{padding}"}}}}')
    assert response.status_code == 200
    assert response.json()["data"]["headPosition"].isdigit()


# --- media types ----------------------------------------------------------------


def ask(server: Server, query: str, variables: dict[str, Any] | None = None,
        accept: str | None = None) -> httpx.Response:
    headers = {"accept": accept} if accept else {}
    return httpx.post(server.graphql_url, json={"query": query, "variables": variables},
                      headers=headers, timeout=30)


REQUEST_ERRORS = {
    "does not parse": ("{ headPosition", None),
    "does not validate": ("{ noSuchField }", None),
    "variables do not coerce": ("query($n: Int!) { users(first: $n) { totalCount } }",
                                {"n": "ten"}),
}


@pytest.mark.parametrize(("query", "variables"), REQUEST_ERRORS.values(),
                         ids=REQUEST_ERRORS.keys())
def test_a_request_that_never_ran_is_400_without_data_for_graphql_response_json(
    server: Server, query: str, variables: dict[str, Any] | None
) -> None:
    response = ask(server, query, variables, accept=APOLLO_4)

    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(("query", "variables"), REQUEST_ERRORS.values(),
                         ids=REQUEST_ERRORS.keys())
@pytest.mark.parametrize("accept", [None, "application/json", "*/*",
                                    f"application/json, {GRAPHQL_RESPONSE};q=0.5"])
def test_application_json_keeps_200_and_null_data(
    server: Server, query: str, variables: dict[str, Any] | None, accept: str | None
) -> None:
    response = ask(server, query, variables, accept=accept)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_execution_error_stays_200_with_data_for_graphql_response_json(
    server: Server
) -> None:
    response = ask(server, "{ headPosition events { pageInfo { hasNextPage } } }",
                   accept=APOLLO_4)

    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" in body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["events"]


@pytest.mark.parametrize("accept", [APOLLO_4, GRAPHQL_RESPONSE])
def test_answers_come_in_graphql_response_json_when_preferred_cached_or_not(
    server: Server, accept: str
) -> None:
    for _ in range(3):  # the first run fills the cache, the next ones may use it
        response = ask(server, PLANNED, accept=accept)

        assert response.status_code == 200
        assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
        assert response.json()["data"]["headPosition"].isdigit()


def test_answers_stay_application_json_by_default_cached_or_not(server: Server) -> None:
    for _ in range(3):
        response = ask(server, PLANNED)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
