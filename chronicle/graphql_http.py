"""GraphQL over HTTP at the door: body limits, refusals as GraphQL errors, media types.

- A request body is capped (``CHRONICLE_MAX_REQUEST_BYTES``): a ``Content-Length``
  past the cap is answered 413 unread; a body streamed past it is cut off there.
- A request the GraphQL layer cannot take (not JSON, not an object, a query that
  is no string…) is answered with a GraphQL-shaped error, code BAD_USER_INPUT,
  never a plain-text or 500 page: clients parse one shape of error.
- ``application/graphql-response+json`` (the GraphQL-over-HTTP specification's
  media type, what Apollo Client 4 asks for first) is answered in kind when the
  client prefers it: then a request that never ran (it did not parse, validate
  or coerce its variables) is HTTP 400 with no ``data`` entry. ``application/json``
  stays as it always was: HTTP 200 and ``data: null``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
GRAPHQL_RESPONSE_TYPE = f"{GRAPHQL_RESPONSE}; charset=utf-8"


def preferred_media_type(accept: str | None) -> str:
    """``application/graphql-response+json`` when the client names it and ranks it at
    least as high as ``application/json``; ``application/json`` otherwise (no Accept,
    ``*/*``, and every client written before the specification)."""
    named = _qualities(accept or "")
    wanted = named.get(GRAPHQL_RESPONSE, 0.0)
    fallback = named.get(JSON, named.get("application/*", named.get("*/*", 0.0)))
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= fallback else JSON


def _qualities(accept: str) -> dict[str, float]:
    qualities: dict[str, float] = {}
    for media_range in accept.split(","):
        name, *parameters = (part.strip() for part in media_range.split(";"))
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if name:
            qualities[name.lower()] = max(quality, qualities.get(name.lower(), 0.0))
    return qualities


def media_type_header(media_type: str) -> str:
    return GRAPHQL_RESPONSE_TYPE if media_type == GRAPHQL_RESPONSE else JSON


def refusal(message: str, status: int, media_type: str = JSON) -> Response:
    """A request refused before any GraphQL ran: an error, no ``data``."""
    body = {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}
    return Response(orjson.dumps(body), status_code=status,
                    media_type=media_type_header(media_type))


def never_ran(errors: Sequence[Any] | None, data: object) -> bool:
    """A result refused before execution: GraphQL-over-HTTP's "request error"."""
    return data is None and bool(errors) and all(
        getattr(e, "path", None) is None
        and (getattr(e, "extensions", None) or {}).get("code") == "BAD_USER_INPUT"
        for e in errors or ()
    )


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a request body passes the cap."""


class BodyLimit:
    """Cap request bodies without reading them first (a pure ASGI middleware)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if _declared_length(headers) > self.max_bytes:
            await self._refuse(headers, scope, receive, send)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge:
            if not started:
                await self._refuse(headers, scope, receive, send)

    async def _refuse(self, headers: Headers, scope: Scope, receive: Receive, send: Send) -> None:
        response = refusal(
            f"The request body is larger than {self.max_bytes} bytes", 413,
            preferred_media_type(headers.get("accept")),
        )
        # The rest of the body is not read: the connection cannot carry another request.
        response.headers["connection"] = "close"
        await response(scope, receive, send)


def _declared_length(headers: Mapping[str, str]) -> int:
    """The Content-Length sent (0 when absent or not a number: the count then decides)."""
    declared = headers.get("content-length", "")
    if not (declared.isascii() and declared.isdigit()):
        return 0
    return int(declared) if len(declared) <= 18 else 10**18  # no int() of endless digits
