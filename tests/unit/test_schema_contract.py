"""The served schema is a superset of the public contract (../shared/schema.graphql).

Clients, the web app and outside conformance checks are written against the
contract: every type, field, argument (with its default), enum value, input
field and scalar of it must exist in ours with the same type.

The contract lives beside the repository, not in it: a fresh clone has no
``../shared``, so those checks skip there, except under ``CI=true``, where the
file must exist. The repository's own exported SDL (``schema.graphql``, which
the web app's code generator reads) must always equal the served schema.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    value_from_ast_untyped,
)

import schema

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "schema.graphql"
EXPORTED = ROOT / "schema.graphql"


def _contract() -> GraphQLSchema:
    if not CONTRACT.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the contract is missing: expected it at {CONTRACT}")
        pytest.skip(f"no contract at {CONTRACT} (only a CI run requires it)")
    return build_schema(CONTRACT.read_text())


def _default(value: GraphQLArgument | GraphQLInputField) -> Any:
    node = value.ast_node
    if node is None or node.default_value is None:
        return "<none>"
    return value_from_ast_untyped(node.default_value)


def _gaps(contract: GraphQLSchema, served: GraphQLSchema) -> list[str]:
    """Everything of ``contract`` that ``served`` lacks or types differently."""
    gaps = [c.description for c in find_breaking_changes(contract, served)]
    for name, theirs in contract.type_map.items():
        if name.startswith("__"):
            continue
        ours = served.type_map.get(name)
        if ours is None or type(ours) is not type(theirs):
            gaps.append(f"type {name} missing or of another kind")
            continue
        if isinstance(theirs, GraphQLEnumType):
            assert isinstance(ours, GraphQLEnumType)
            gaps += [f"{name}.{v} missing" for v in theirs.values if v not in ours.values]
        if isinstance(theirs, GraphQLInputObjectType):
            assert isinstance(ours, GraphQLInputObjectType)
            for field_name, field in theirs.fields.items():
                mine = ours.fields.get(field_name)
                if mine is None or str(mine.type) != str(field.type):
                    gaps.append(f"{name}.{field_name} missing or retyped")
                elif _default(field) != "<none>" and _default(mine) != _default(field):
                    gaps.append(f"{name}.{field_name} default differs")
        if isinstance(theirs, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(ours, GraphQLObjectType | GraphQLInterfaceType)
            for field_name, field in theirs.fields.items():
                mine_field = ours.fields.get(field_name)
                if mine_field is None or str(mine_field.type) != str(field.type):
                    gaps.append(f"{name}.{field_name} missing or retyped")
                    continue
                for arg_name, arg in field.args.items():
                    mine_arg = mine_field.args.get(arg_name)
                    where = f"{name}.{field_name}({arg_name})"
                    if mine_arg is None or str(mine_arg.type) != str(arg.type):
                        gaps.append(f"{where} missing or retyped")
                    elif _default(arg) != "<none>" and _default(mine_arg) != _default(arg):
                        gaps.append(f"{where} default differs")
                gaps += [
                    f"{name}.{field_name}({a}) is a new required argument"
                    for a, v in mine_field.args.items()
                    if a not in field.args and str(v.type).endswith("!")
                ]
    return gaps


@pytest.fixture(scope="module")
def served() -> GraphQLSchema:
    return build_schema(schema.sdl())


def test_the_served_schema_contains_everything_the_contract_promises(
    served: GraphQLSchema,
) -> None:
    assert _gaps(_contract(), served) == []


def test_the_committed_sdl_is_the_schema_the_server_builds() -> None:
    # The file is what `make schema` wrote and what the web app is typed from;
    # the server's schema is built here, so a change to either side fails.
    assert EXPORTED.read_text() == schema.build_schema().as_str().rstrip() + "\n", (
        "schema.graphql is out of date: run `make schema` and commit it"
    )


def test_the_served_schema_declares_every_root_of_the_contract(served: GraphQLSchema) -> None:
    assert served.query_type is not None and served.query_type.name == "Query"
    assert served.mutation_type is not None and served.mutation_type.name == "Mutation"
    assert served.subscription_type is not None
    assert set(served.subscription_type.fields) >= {
        "events", "feed", "postChanged", "commentAdded"
    }


BASE = """
scalar Position
enum Role { MEMBER ADMIN }
input Filter { tag: String = "x" }
type Query { posts(first: Int = 20, after: String, filter: Filter): [String!]! role: Role }
"""


@pytest.mark.parametrize(
    ("served_sdl", "gap"),
    [
        (BASE.replace("first: Int = 20", "first: Int = 21"), "Query.posts(first) default differs"),
        (BASE.replace("first: Int = 20, ", ""), "Query.posts(first) missing or retyped"),
        (BASE.replace("[String!]!", "[String]!"), "Query.posts missing or retyped"),
        (BASE.replace("MEMBER ADMIN", "MEMBER"), "Role.ADMIN missing"),
        (BASE.replace('tag: String = "x"', "tag: String"), "Filter.tag default differs"),
        (BASE.replace("scalar Position\n", ""), "type Position missing or of another kind"),
        (BASE.replace("after: String", "after: String, x: Int!"),
         "Query.posts(x) is a new required argument"),
    ],
)
def test_the_comparison_reports_each_kind_of_gap(served_sdl: str, gap: str) -> None:
    assert gap in _gaps(build_schema(BASE), build_schema(served_sdl))
