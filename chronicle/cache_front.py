"""The response cache in front of the executor: hits served at the ASGI level, misses stored.

For a POSTed JSON query without ``extensions``, :class:`CacheFront` looks for
an answer in the response cache (``chronicle.response_cache``): a hit charges
the caller's budget for the operation's cost and sends the stored bytes
without executing; a miss runs the executor, recording the tables it reads
(``events.read_recording``) and whether it read who asks
(``RequestContext.read_caller``), and stores a clean query answer for the next
request under the key those allow. A miss that finds another miss of the same
shared key running waits for it, then looks again. The view
(``chronicle.view``) calls it around strawberry's own path.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from chronicle.cache_keys import cacheable, keys, matches
from chronicle.graphql_http import media_type_header, preferred_media_type
from chronicle.metrics import Metrics
from chronicle.response_cache import ResponseCache, Ticket
from domain.errors import RateLimited
from events.read_recording import Reads, recording_reads
from schema.context import ChronicleContext, http_context
from schema.limits import caller_of
from schema.quotas import Quotas

CONTEXT = "chronicle.context"
"""Scope key: the context the cache lookup built, reused by the executor."""
_TICKET = "chronicle.cache_ticket"
"""Scope key: a miss whose clean answer is to be stored (ticket, minPosition, context, reads)."""
_ETAG = "chronicle.etag"


class CacheFront:
    """The response cache's side of the view: answering hits, storing clean misses."""

    def __init__(
        self, cache: ResponseCache, metrics: Metrics, quotas: Quotas, *, bypass: bool = False
    ) -> None:
        self.cache = cache
        self.metrics = metrics
        self.quotas = quotas
        self.bypass = bypass
        """Test-only (``CHRONICLE_RESPONSE_CACHE_BYPASS``): ``X-Chronicle-Cache: bypass``
        goes to the executor alone, and hits are marked ``X-Chronicle-Cache: hit``."""

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Answer from the cache (None), or a ``receive`` replaying the body for the executor.

        A hit is most of what a cached server does, so this path stays at the ASGI
        level: the headers it needs in one pass, the body from ``receive``, the
        answer as two ``send`` messages (no Request or Response objects).
        """
        cache = self.cache
        headers = _wanted_headers(scope)
        content_type = headers.get("content-type", "")
        if content_type.partition(";")[0].strip().lower() != "application/json":
            return receive  # the body was not read: the executor's path reads it
        body = await _read_body(receive)
        replay = _replaying(body, receive)
        if self.bypass and headers.get("x-chronicle-cache") == "bypass":
            return replay
        wanted = cacheable(body, headers.get("x-min-position"))
        if wanted is None:
            return replay  # anything unusual is the executor's to answer or refuse
        document, min_position = wanted
        context = await http_context(scope["app"].state.services, headers)
        client = scope.get("client")
        context.client = client[0] if client else None
        scope[CONTEXT] = context
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
        if self.bypass:  # the test-only mode also says which answers were hits
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

    async def run(
        self, request: Request, execute: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """The executor's answer; a miss to be stored records what it reads, and lets
        the misses waiting for it look again once it is over."""
        pending: tuple[Ticket, int | None, ChronicleContext, Reads] | None = (
            request.scope.get(_TICKET)
        )
        if pending is None:
            return await execute(request)
        try:
            with recording_reads() as reads:
                request.scope[_TICKET] = (*pending[:3], reads)
                return await execute(request)
        finally:
            self.cache.land(pending[0])

    def store(self, request: Request, result: ExecutionResult,
              processed: GraphQLHTTPResponse) -> None:
        """Keep a miss's clean query answer (its ETag is then sent, see :meth:`validated`)."""
        pending: tuple[Ticket, int | None, ChronicleContext, Reads | None] | None = (
            request.scope.get(_TICKET)
        )
        if pending is None:
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

    def validated(self, request: Request, response: Response) -> Response:
        """``response`` with the ETag of the answer it stored, or 304 if the client has it."""
        etag = request.scope.get(_ETAG)
        if etag is not None:
            if matches(request.headers.get("if-none-match"), etag):
                response = Response(status_code=304)
            response.headers["etag"] = etag
        return response


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
