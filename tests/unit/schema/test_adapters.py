"""The private names schema/adapters.py relies on still exist in the installed strawberry."""

from __future__ import annotations

from importlib.metadata import version

from graphql import GraphQLSchema

from schema import build_schema
from schema.adapters import graphql_core_schema


def test_strawberry_still_keeps_its_graphql_core_schema_in_schema_underscore_schema() -> None:
    strawberry_schema = build_schema()
    assert isinstance(getattr(strawberry_schema, "_schema", None), GraphQLSchema), (
        f"strawberry-graphql {version('strawberry-graphql')} no longer has Schema._schema: "
        "update schema/adapters.py (and the pin in pyproject.toml)"
    )
    core = graphql_core_schema(strawberry_schema)
    assert core.query_type is not None and core.query_type.name == "Query"


def test_the_pin_in_pyproject_covers_the_installed_strawberry() -> None:
    major, minor = (int(part) for part in version("strawberry-graphql").split(".")[:2])
    assert (major, minor) == (0, 341), "re-test schema/adapters.py, then move the pin"
