"""GraphQL over HTTP and websockets: strawberry's ASGI view, with the response cache in front.

Every operation runs through strawberry's public path (schema extensions,
limits, cost, masking, media types). In front of it, for a POSTed JSON query
without ``extensions``, the view looks for an answer in the response cache
(``chronicle.response_cache``): a hit charges the caller's budget for the
operation's cost and sends the stored bytes without executing; a miss runs
the executor, recording the tables it reads (``events.read_recording``) and whether
it read who asks (``RequestContext.read_caller``), and stores a clean query
answer for the next request under the key those allow. A miss that finds
another miss of the same shared key running waits for it, then looks again.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from chronicle.cache_keys import cacheable, keys, matches
from chronicle.frames import NextFrames
from chronicle.graphql_http import (
    GRAPHQL_RESPONSE,
    media_type_header,
    never_ran,
    preferred_media_type,
    refusal,
)
from chronicle.metrics import Metrics
from chronicle.response_cache import ResponseCache, Ticket
from domain.errors import RateLimited, Unauthenticated
from events.read_recording import Reads, recording_reads
from resolvers.context import Services
from schema.context import (
    ChronicleContext,
    accept_connection,
    http_context,
    socket_context,
)
from schema.identities import Identities
from schema.limits import caller_of
from schema.quotas import Quotas
from schema.sockets import LegacyWSHandler, TransportWSHandler

STATIC = Path(__file__).parent / "static"
GRAPHIQL_INDEX = STATIC / "graphiql" / "index.html"
GRAPHIQL_MISSING = (Path(__file__).parent / "templates" / "graphiql_missing.html").read_text()

_CONTEXT = "chronicle.context"
"""Scope key: the context the cache lookup built, reused by the executor."""
_TICKET = "chronicle.cache_ticket"
"""Scope key: a miss whose clean answer is to be stored (ticket, minPosition, context, reads)."""
_ETAG = "chronicle.etag"


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
        self.quotas = quotas
        self.cache = cache
        self.next_frames = NextFrames()
        self.cache_bypass = cache_bypass
        """Test-only (``CHRONICLE_RESPONSE_CACHE_BYPASS``): ``X-Chronicle-Cache: bypass``
        goes to the executor alone, and hits are marked ``X-Chronicle-Cache: hit``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            if self.cache is not None and scope["method"] == "POST":
                replay = await self._answer_from_cache(self.cache, scope, receive, send)
                if replay is None:
                    return
                receive = replay
            request = Request(scope, receive)
            try:
                response = await self._run(request)
            except HTTPException as refused:  # strawberry's refusals, as GraphQL errors
                response = refusal(refused.reason, refused.status_code, _media_type(request))
            etag = scope.get(_ETAG)
            if etag is not None:
                if matches(request.headers.get("if-none-match"), etag):
                    response = Response(status_code=304)
                response.headers["etag"] = etag
            await response(scope, receive, send)
        except ClientDisconnect:
            # The client left before its request was read (a load generator
            # stopping, a closed tab): nobody to answer and nothing wrong here,
            # so no "Exception in ASGI application" traceback to format and log.
            return

    async def _run(self, request: Request) -> Response:
        """The executor's answer; a miss to be stored records what it reads, and lets
        the misses waiting for it look again once it is over."""
        pending: tuple[Ticket, int | None, ChronicleContext, Reads] | None = (
            request.scope.get(_TICKET)
        )
        if pending is None or self.cache is None:
            return await self.run(request)
        try:
            with recording_reads() as reads:
                request.scope[_TICKET] = (*pending[:3], reads)
                return await self.run(request)
        finally:
            self.cache.land(pending[0])

    async def _answer_from_cache(
        self, cache: ResponseCache, scope: Scope, receive: Receive, send: Send
    ) -> Receive | None:
        """Answer from the cache (None), or a ``receive`` replaying the body for the executor.

        A hit is most of what a cached server does, so this path stays at the ASGI
        level: the headers it needs in one pass, the body from ``receive``, the
        answer as two ``send`` messages (no Request or Response objects).
        """
        headers = _wanted_headers(scope)
        content_type = headers.get("content-type", "")
        if content_type.partition(";")[0].strip().lower() != "application/json":
            return receive  # the body was not read: the executor's path reads it
        body = await _read_body(receive)
        replay = _replaying(body, receive)
        if self.cache_bypass and headers.get("x-chronicle-cache") == "bypass":
            return replay
        wanted = cacheable(body, headers.get("x-min-position"))
        if wanted is None:
            return replay  # anything unusual is the executor's to answer or refuse
        document, min_position = wanted
        context = await http_context(scope["app"].state.services, headers)
        client = scope.get("client")
        context.client = client[0] if client else None
        scope[_CONTEXT] = context
        shared, own = keys(document, context.identity())
        entry = cache.find(shared, own, min_position)
        waited = entry is None and await cache.wait_for_flight(shared)
        if waited:
            entry = cache.find(shared, own, min_position)
        cache.count(entry is not None)
        if entry is None:
            # Others wait only for a miss that need not wait for a position itself.
            lead = not waited and (min_position is None or min_position <= cache.known_through())
            ticket = cache.ticket(shared, own, lead=lead)
            if ticket is not None:
                scope[_TICKET] = (ticket, min_position, context, None)
            return replay
        caller, address = caller_of(context)
        try:
            charge = self.quotas.admit(caller, address, entry.cost)
        except RateLimited:
            return replay  # refused by the executor's path, which reports it as specified
        self.metrics.count_result([])
        sent = [(b"etag", entry.etag.encode())]
        if self.cache_bypass:  # the test-only mode also says which answers were hits
            sent.append((b"x-chronicle-cache", b"hit"))
        if matches(headers.get("if-none-match"), entry.etag):
            await send({"type": "http.response.start", "status": 304, "headers": sent})
            await send({"type": "http.response.body", "body": b""})
            return None
        cost = orjson.dumps({"cost": charge.as_extension()})
        answer = b'{"data":' + entry.data + b',"extensions":' + cost + b"}"
        sent += [(b"content-length", str(len(answer)).encode()),
                 (b"content-type", _content_type(headers.get("accept")))]
        await send({"type": "http.response.start", "status": 200, "headers": sent})
        await send({"type": "http.response.body", "body": answer})
        return None

    def _store(self, request: Request, result: ExecutionResult,
               processed: GraphQLHTTPResponse) -> None:
        pending: tuple[Ticket, int | None, ChronicleContext, Reads | None] | None = (
            request.scope.get(_TICKET)
        )
        if pending is None or self.cache is None:
            return
        ticket, min_position, context, reads = pending
        if reads is None:
            return
        extensions: dict[str, Any] = dict(processed.get("extensions") or {})
        if (result.errors or result.data is None or set(extensions) - {"cost"}
                or context.operation_type is not OperationType.QUERY):
            return  # mutations, subscriptions, errors and unknown extensions stay uncached
        try:
            # A copy of the right size to keep: orjson's own output holds at least 4 KiB
            # (the cache's byte bound counts len(data)).
            data = bytes(memoryview(orjson.dumps(processed["data"])))
        except TypeError:  # an integer past 64 bits: rare enough to leave uncached
            return
        cost = int(extensions.get("cost", {}).get("requested", 1))
        request.scope[_ETAG] = self.cache.store(ticket, data, cost, min_position,
                                                personal=context.read_caller, reads=reads)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ChronicleContext:
        known: ChronicleContext | None = request.scope.pop(_CONTEXT, None)
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
        self._store(request, result, processed)
        if _media_type(request) == GRAPHQL_RESPONSE and never_ran(result.errors, result.data):
            processed.pop("data", None)  # a request error: the operation never ran
        return processed


def _media_type(request: Request | WebSocket) -> str:
    return preferred_media_type(request.headers.get("accept"))


_WANTED = frozenset({b"content-type", b"authorization", b"x-min-position", b"if-none-match",
                     b"accept", b"x-chronicle-cache"})


def _wanted_headers(scope: Scope) -> dict[str, str]:
    """The request headers the cache looks at, decoded; the first of repeated ones
    (as Starlette's ``Headers.get``)."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (as ``Request.body``; a client gone first: ClientDisconnect)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


@functools.lru_cache(maxsize=64)
def _content_type(accept: str | None) -> bytes:
    """The Content-Type header of a cached answer for the client's Accept (few distinct)."""
    return media_type_header(preferred_media_type(accept)).encode("latin-1")


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` giving the already-read body again, then the client's next messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
