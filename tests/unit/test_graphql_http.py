"""Which media type a GraphQL-over-HTTP answer takes, from the client's Accept header."""

from __future__ import annotations

import pytest

from chronicle.graphql_http import GRAPHQL_RESPONSE, JSON, preferred_media_type


@pytest.mark.parametrize(("accept", "answered"), [
    (None, JSON),
    ("", JSON),
    ("*/*", JSON),
    ("application/json", JSON),
    ("application/*", JSON),
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),  # Apollo Client 4
    (f"{GRAPHQL_RESPONSE};charset=utf-8, application/json;q=0.9", GRAPHQL_RESPONSE),
    (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),  # equal: the specified one
    (f"application/json, {GRAPHQL_RESPONSE};q=0.5", JSON),
    (f"{GRAPHQL_RESPONSE};q=0, application/json", JSON),
    (f"{GRAPHQL_RESPONSE};q=oops", JSON),
    (f"text/html, {GRAPHQL_RESPONSE.upper()};q=0.8, */*;q=0.1", GRAPHQL_RESPONSE),
])
def test_graphql_response_json_is_answered_only_when_the_client_prefers_it(
    accept: str | None, answered: str
) -> None:
    assert preferred_media_type(accept) == answered
