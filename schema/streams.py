"""The schema Chronicle serves: strawberry's, with its streamed results classified.

Queries and mutations get the contract's error codes from the operation
extension (``schema.limits.Operation.on_operation``). A stream (each event of
a subscription, or the one result a websocket's query yields) gets them here,
at strawberry's public ``Schema.stream`` (``Schema.subscribe`` calls it too),
rather than in a schema extension's ``on_stream_result`` hook: strawberry
builds that hook's context managers anew for every result, for every
subscriber, which was a tenth of the server's work per delivery at a thousand
subscribers (bench/README.md, bench.fanout). Only results carrying errors are
touched; the rest pass through as they are.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from typing import Any

import strawberry
from strawberry.types.graphql import OperationType

from schema.context import current_request_id
from schema.errors import rewrite_errors


class ChronicleSchema(strawberry.Schema):
    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> Any:
        results = await super().stream(
            query, variable_values, context_value, root_value, operation_name,
            operation_extensions, allowed_operation_types,
        )
        return _classified(results)


async def _classified(results: Any) -> AsyncGenerator[Any, None]:
    async with aclosing(results):
        async for result in results:
            if getattr(result, "errors", None):
                # The operation's own id: set for this task when the operation began.
                rewrite_errors(result, current_request_id.get())
            yield result
