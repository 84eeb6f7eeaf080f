"""The one place Chronicle reaches into a dependency's private names (STYLE.md rule 11).

strawberry 0.341 has no public way to get the graphql-core schema it built,
and graphql-core's ``validate`` and Chronicle's cost count (``schema.cost``)
need exactly that object: ``strawberry.Schema._schema``. pyproject.toml pins
strawberry-graphql to the tested minor, and
``tests/unit/schema/test_adapters.py`` fails loudly when the name moves.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema


def graphql_core_schema(schema: Any) -> GraphQLSchema:
    """The graphql-core schema behind a ``strawberry.Schema``."""
    core = schema._schema
    if not isinstance(core, GraphQLSchema):
        raise TypeError(f"strawberry's Schema._schema is no GraphQLSchema: {type(core)!r}")
    return core
