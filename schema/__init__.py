"""The GraphQL schema: strawberry types over the resolvers, assembled in one place."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema.limits import Limits, schema_extensions
from schema.mutation import Mutation
from schema.query import Query
from schema.quotas import Quotas
from schema.scalars import SCALAR_MAP
from schema.sharing import SharedResults
from schema.streams import ChronicleSchema
from schema.subscription import Subscription


def build_schema(limits: Limits | None = None, quotas: Quotas | None = None) -> strawberry.Schema:
    """Query, Mutation and Subscription with the error mapping, limits, quotas and caches."""
    return ChronicleSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=schema_extensions(limits, quotas),
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=SharedResults,
    )


def sdl() -> str:
    """The served schema as SDL, for ``chronicle export-schema`` and the contract test."""
    return build_schema().as_str()
