"""Per-operation guards and caches, in the order the schema must run them.

``schema_extensions()`` is what ``build_schema`` passes to strawberry. Every
entry is a class or a factory, never an instance, so each operation gets its
own extension objects (instances are shared across requests and deprecated).

- depth, alias and token limits keep one request from costing the server
  more than a page of data is worth;
- parsed and validated documents are cached: graphql-core validation
  dominates small requests (STACK-NOTES: 145 -> 312 req/s). The caches are
  module-level inside strawberry, so passing the classes shares them.
  The validation cache is keyed by the rule classes too, and strawberry's
  ``QueryDepthLimiter``/``MaxAliasesLimiter`` create a new rule class per
  instance, which would miss the cache on every request: the rule classes
  are therefore created once here and added with ``AddValidationRules``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)

from schema.context import OperationContext
from schema.errors import ErrorCodes

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


class CachedParser(ParserCache):
    """strawberry's ParserCache, except for documents that do not parse.

    ParserCache parses inside its hook, where a syntax error (or the token
    limit) escapes every extension and reaches the client without an error
    code. Leaving such a document unparsed lets strawberry parse it again
    itself, inside the operation, and report the error as a result that
    ``ErrorCodes`` maps to BAD_USER_INPUT. Only failures pay the second parse.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


@dataclass(frozen=True)
class Limits:
    """Defaults equal ``chronicle.settings.Settings``' (``CHRONICLE_MAX_QUERY_DEPTH`` …)."""

    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000


def schema_extensions(limits: Limits | None = None) -> list[Extension]:
    limits = limits or Limits()
    rules: list[type[ASTValidationRule]] = [
        query_depth_limiter.create_validator(limits.max_query_depth, None),
        max_aliases.create_validator(limits.max_aliases),
    ]
    return [
        # first: leaves the operation last, so it maps every error the others raise
        ErrorCodes,
        OperationContext,
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        CachedParser,
        partial(AddValidationRules, rules),
        ValidationCache,
    ]
