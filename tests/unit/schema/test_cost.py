"""The cost of an operation (schema/cost.py): 1, plus every node its answer may hold.

A connection holds as many items as its ``first`` (or ``last``) asks for, from
a literal, a variable or the argument's default, and multiplies what is
selected in its page; other lists of objects hold the page size cap.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSchema, get_introspection_query, parse

from schema import build_schema
from schema.adapters import graphql_core_schema
from schema.cost import operation_cost, root_field_count

NESTED = (
    "{ posts(first:100){ edges{ node{ author{ posts(first:100){ edges{ node{ body } } } } } } } }"
)
FEED = """
query Feed($first: Int) {
  posts(first: $first) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id title body tags likeCount commentCount likedByMe
      author { username displayName postCount }
      comments(first: 5) { totalCount edges { node { body author { username } } } }
    } }
  }
}
"""


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return graphql_core_schema(build_schema())


def cost(schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None,
         name: str | None = None) -> int:
    return operation_cost(schema, parse(query), name, variables)


def test_an_operation_without_lists_costs_one(schema: GraphQLSchema) -> None:
    assert cost(schema, "{ me { id username postCount } headPosition }") == 1


def test_a_connection_costs_the_page_it_asks_for(schema: GraphQLSchema) -> None:
    assert cost(schema, "{ posts(first: 10) { edges { node { id } } } }") == 1 + 10


def test_a_connection_without_first_costs_its_default_page(schema: GraphQLSchema) -> None:
    assert cost(schema, "{ posts { edges { node { id } } } }") == 1 + 20
    assert cost(schema, "{ events { edges { node { id } } } }") == 1 + 100
    assert cost(schema, "{ posts(first: null) { edges { node { id } } } }") == 1 + 20


def test_first_given_by_a_variable_costs_the_variables_value(schema: GraphQLSchema) -> None:
    query = "query($n: Int) { posts(first: $n) { edges { node { id } } } }"
    assert cost(schema, query, {"n": 3}) == 1 + 3
    assert cost(schema, query, {}) == 1 + 20
    with_default = "query($n: Int = 7) { posts(first: $n) { edges { node { id } } } }"
    assert cost(schema, with_default) == 1 + 7


def test_a_connection_multiplies_the_connections_inside_its_page(
    schema: GraphQLSchema,
) -> None:
    assert cost(schema, NESTED) == 1 + 100 + 100 * 100


def test_counts_and_page_info_of_a_connection_cost_nothing(schema: GraphQLSchema) -> None:
    query = "{ posts(first: 100) { totalCount edges { node { comments { totalCount } } } } }"
    assert cost(schema, query) == 1 + 100


def test_every_alias_is_counted(schema: GraphQLSchema) -> None:
    three = "{ " + " ".join(f"a{i}: {NESTED[2:-2]}" for i in range(3)) + " }"
    assert cost(schema, three) == 1 + 3 * (100 + 100 * 100)


def test_fragments_cost_what_they_select_where_they_are_spread(schema: GraphQLSchema) -> None:
    query = """
    { posts(first: 10) { edges { node { ...WithComments } } } }
    fragment WithComments on Post { comments(first: 4) { edges { node { ...Body } } } }
    fragment Body on Comment { body }
    """
    assert cost(schema, query) == 1 + 10 + 10 * 4
    inline = "{ posts(first: 10) { edges { node { ... on Post { comments(first: 4) {" \
             " edges { node { id } } } } } } } }"
    assert cost(schema, inline) == 1 + 10 + 10 * 4


def test_fragments_spread_many_times_are_walked_once_per_place(schema: GraphQLSchema) -> None:
    # each level spreads the next twice: 2**20 walks unless memoized
    levels = ["fragment F0 on Post { id }"] + [
        f"fragment F{i} on Post {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 21)
    ]
    query = "{ posts(first: 2) { edges { node { ...F20 } } } }\n" + "\n".join(levels)
    assert cost(schema, query) == 1 + 2


def test_a_plain_list_of_objects_costs_the_page_size_cap(schema: GraphQLSchema) -> None:
    query = '{ post(id: "p") { history { type } } }'
    assert cost(schema, query) == 1 + 100
    assert operation_cost(schema, parse(query), None, None, list_size=10) == 1 + 10


def test_lists_of_scalars_are_part_of_their_node(schema: GraphQLSchema) -> None:
    assert cost(schema, "{ posts(first: 5) { edges { node { tags } } } }") == 1 + 5


def test_mutations_and_subscriptions_are_costed_alike(schema: GraphQLSchema) -> None:
    mutation = """mutation { createPost(input: {title: "t", body: "b"}) {
        post { comments(first: 30) { edges { node { id } } } } } }"""
    assert cost(schema, mutation) == 1 + 30
    subscription = """subscription { feed { post {
        author { posts(first: 100) { edges { node { comments(first: 100) {
            edges { node { id } } } } } } } } } }"""
    assert cost(schema, subscription) == 1 + 100 + 100 * 100


def test_only_the_named_operation_is_costed(schema: GraphQLSchema) -> None:
    document = "query Small { me { id } } query Big { posts(first: 50) { edges { node { id } } } }"
    assert cost(schema, document, name="Small") == 1
    assert cost(schema, document, name="Big") == 1 + 50


def test_a_feed_page_of_a_hundred_posts_with_a_few_comments_is_cheap(
    schema: GraphQLSchema,
) -> None:
    assert cost(schema, FEED, {"first": 100}) == 1 + 100 + 100 * 5


def test_graphiqls_introspection_query_costs_about_what_its_answer_holds(
    schema: GraphQLSchema,
) -> None:
    assert cost(schema, get_introspection_query()) < 2000


def test_introspection_nested_to_multiply_itself_costs_as_much(schema: GraphQLSchema) -> None:
    nested = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    flat = "{ __schema { types { fields { name } } } }"
    assert cost(schema, nested) > 10 * cost(schema, flat)


def test_root_field_count_counts_every_alias_and_fragment(schema: GraphQLSchema) -> None:
    document = parse("""
    mutation { a: register(input: $i) { token } b: register(input: $i) { token }
               ...More login(input: $l) { token } }
    fragment More on Mutation { c: register(input: $i) { token } }
    """)
    assert root_field_count(document, None, "register") == 3
    assert root_field_count(parse("{ me { id } }"), None, "register") == 0
