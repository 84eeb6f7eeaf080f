"""Chronicle's own ASGI middleware: request ids, timing and the request metrics."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chronicle.metrics import Metrics
from schema.context import current_request_id, new_request_id


class RequestIds:
    """Gives every HTTP request and websocket an id: in the logs and in ``X-Request-Id``.

    A pure ASGI middleware (no BaseHTTPMiddleware): it must not buffer
    responses or break websockets. It also times requests for the metrics.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        # Accept a caller's id only if it looks like one: it ends up in logs.
        request_id = sent if 0 < len(sent) <= 64 and sent.isprintable() else new_request_id()
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            # A websocket's messages pass straight through: one more call per frame
            # sent, thousands a second under fan-out, for a header only HTTP carries.
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            current_request_id.reset(token)
            if scope["type"] == "http":
                route = scope["path"] if scope["path"] in _KNOWN_ROUTES else "other"
                self.metrics.observe_request(
                    scope["method"], route, status or 500, time.perf_counter() - started
                )


_KNOWN_ROUTES = frozenset({"/", "/graphql", "/healthz", "/readyz", "/metrics"})
