"""GraphQL over HTTP and websockets: strawberry's ASGI view, with the response cache in front.

Every operation runs through strawberry's public path (schema extensions,
limits, cost, masking, media types). The view gives it Chronicle's context
(one per request, or per socket), strict JSON, GraphQL's media types and a
GraphiQL page served from here. In front of it, for a POSTed JSON query, the
response cache answers hits and stores clean misses (``chronicle.cache_front``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from chronicle.cache_front import CONTEXT, CacheFront
from chronicle.frames import NextFrames
from chronicle.graphql_http import (
    GRAPHQL_RESPONSE,
    media_type_header,
    never_ran,
    preferred_media_type,
    refusal,
)
from chronicle.metrics import Metrics
from chronicle.response_cache import ResponseCache
from domain.errors import Unauthenticated
from resolvers.context import Services
from schema.context import (
    ChronicleContext,
    accept_connection,
    http_context,
    socket_context,
)
from schema.identities import Identities
from schema.quotas import Quotas
from schema.sockets import LegacyWSHandler, TransportWSHandler

STATIC = Path(__file__).parent / "static"
GRAPHIQL_INDEX = STATIC / "graphiql" / "index.html"
GRAPHIQL_MISSING = (Path(__file__).parent / "templates" / "graphiql_missing.html").read_text()


class ChronicleGraphQL(GraphQL[ChronicleContext, None]):
    """strawberry's ASGI view with Chronicle's context, GraphiQL, metrics and the cache."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    identities: Identities | None = None
    """Set by the lifespan: closes sockets whose member's identity ended."""

    def __init__(
        self, schema: Any, metrics: Metrics, *, quotas: Quotas,
        cache: ResponseCache | None = None, cache_bypass: bool = False, **options: Any,
    ) -> None:
        super().__init__(schema, **options)
        self.metrics = metrics
        self.front = (
            CacheFront(cache, metrics, quotas, bypass=cache_bypass) if cache is not None else None
        )
        """The response cache in front of the executor (None: no cache)."""
        self.next_frames = NextFrames()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        front = self.front
        try:
            if front is not None and scope["method"] == "POST":
                replay = await front.answer(scope, receive, send)
                if replay is None:
                    return
                receive = replay
            request = Request(scope, receive)
            try:
                response = await (
                    self.run(request) if front is None else front.run(request, self.run)
                )
            except HTTPException as refused:  # strawberry's refusals, as GraphQL errors
                response = refusal(refused.reason, refused.status_code, _media_type(request))
            if front is not None:
                response = front.validated(request, response)
            await response(scope, receive, send)
        except ClientDisconnect:
            # The client left before its request was read (a load generator
            # stopping, a closed tab): nobody to answer and nothing wrong here,
            # so no "Exception in ASGI application" traceback to format and log.
            return

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ChronicleContext:
        known: ChronicleContext | None = request.scope.pop(CONTEXT, None)
        if known is not None:
            return known  # built by the cache lookup: the caller is identified once
        services: Services = request.app.state.services
        context = (
            socket_context(services) if isinstance(request, WebSocket)
            else await http_context(services, request.headers)
        )
        context.client = request.client.host if request.client else None
        return context

    async def on_ws_connect(
        self, context: ChronicleContext
    ) -> UnsetType | dict[str, object] | None:
        try:
            await accept_connection(context)
        except Unauthenticated as refused:
            # Closes with 4403 so the client can refresh its token (schema/sockets.py).
            raise ConnectionRejectionError({"message": refused.message}) from None
        unset: UnsetType = UNSET
        return unset

    def decode_json(self, data: str | bytes) -> object:
        # Strict where the standard decoder is lenient: invalid UTF-8, lone surrogates,
        # integers past 64 bits and nesting past 1024 levels are refused as not JSON
        # (HTTP 400) instead of failing deep inside the server. A BOM is tolerated.
        if isinstance(data, bytes):
            data = data.removeprefix(b"\xef\xbb\xbf")
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = self.decode_json(data)
        except orjson.JSONDecodeError as error:
            raise HTTPException(400, f"The request is not valid JSON: {error.msg}") from None
        if not isinstance(parsed, dict | list):
            raise HTTPException(
                400, "Expected a JSON object: a GraphQL request, its variables or extensions"
            )
        return parsed

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = _media_type(request)
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if isinstance(response_data, dict) and (wait := _retry_after(response_data)):
            response.headers["retry-after"] = str(wait)  # for HTTP clients and proxies too
        if sub_response.media_type == GRAPHQL_RESPONSE:
            response.headers["content-type"] = media_type_header(GRAPHQL_RESPONSE)
            if isinstance(response_data, dict) and "data" not in response_data:
                response.status_code = 400
        return response

    def encode_json(self, data: object) -> str:
        # orjson writes the same compact JSON as strawberry's json.dumps, faster.
        # A str, not bytes: websocket messages go through here too, as text frames.
        try:
            if isinstance(data, dict):
                frame = self.next_frames.encode(data)  # a subscription's shared result
                if frame is not None:
                    return frame
            return orjson.dumps(data).decode()
        except TypeError:  # an integer past 64 bits: only the standard encoder has those
            return json.dumps(data, separators=(",", ":"))

    async def render_graphql_ide(self, request: Request) -> Response:
        # Never strawberry's page: it loads GraphiQL from a public CDN.
        if GRAPHIQL_INDEX.is_file():
            return FileResponse(GRAPHIQL_INDEX, media_type="text/html")
        return HTMLResponse(GRAPHIQL_MISSING)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        codes = [str((e.extensions or {}).get("code", "INTERNAL")) for e in result.errors or ()]
        self.metrics.count_result(codes)
        processed = await super().process_result(request, result)
        if self.front is not None:
            self.front.store(request, result, processed)
        if _media_type(request) == GRAPHQL_RESPONSE and never_ran(result.errors, result.data):
            processed.pop("data", None)  # a request error: the operation never ran
        return processed


def _retry_after(response: GraphQLHTTPResponse) -> int | None:
    """The longest ``retryAfter`` of the response's RATE_LIMITED errors, if any."""
    waits = []
    for error in response.get("errors") or ():
        extensions = error.get("extensions") if isinstance(error, dict) else None
        if extensions and extensions.get("code") == "RATE_LIMITED":
            waits.append(extensions.get("retryAfter"))
    return max((w for w in waits if isinstance(w, int)), default=None)


def _media_type(request: Request | WebSocket) -> str:
    return preferred_media_type(request.headers.get("accept"))

