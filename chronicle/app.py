"""The ASGI application: GraphQL over HTTP and websockets, operations endpoints, static pages.

``create_app`` builds a Starlette app whose lifespan starts Chronicle through
:func:`chronicle.bootstrap.start` (so the app, the CLI and the tests run the
same components) and stops it on shutdown. Everything holding asyncio state
is created inside the lifespan, never at import time (STACK-NOTES pitfall 7).
"""

from __future__ import annotations

import gc
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from cross_web import HTTPException
from graphql import GraphQLError, parse
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from chronicle import logging as chronicle_logging
from chronicle.bootstrap import Chronicle, start
from chronicle.graphql_http import (
    GRAPHQL_RESPONSE,
    BodyLimit,
    media_type_header,
    never_ran,
    preferred_media_type,
    refusal,
)
from chronicle.metrics import CONTENT_TYPE, Metrics
from chronicle.settings import Settings
from domain.errors import RateLimited, Unauthenticated
from events.reading import Reader, reader_for
from resolvers.context import Services
from resolvers.hub import LiveHub
from schema import build_schema
from schema.context import (
    ChronicleContext,
    accept_connection,
    bearer_token,
    current_request_id,
    http_context,
    new_request_id,
    socket_context,
)
from schema.limits import Limits, admit, caller_of
from schema.plans import Abandon, Plans
from schema.quotas import Charge, Quotas
from schema.sockets import Identities, LegacyWSHandler, TransportWSHandler

STATIC = Path(__file__).parent / "static"
GRAPHIQL_INDEX = STATIC / "graphiql" / "index.html"
WEB_INDEX = STATIC / "web" / "index.html"

GRAPHIQL_MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chronicle GraphQL</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>GraphiQL is not built yet</h1>
<p>The GraphQL API is served here: POST your queries to <code>/graphql</code>.</p>
<p>Chronicle serves GraphiQL from its own built assets (never from a public CDN).
Build them with <code>make install</code> (or <code>npm ci &amp;&amp; npm run build</code> in
<code>web/graphiql/</code>), which writes <code>chronicle/static/graphiql/index.html</code>,
then reload this page.</p>
</body></html>
"""

HOME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chronicle</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>Chronicle</h1>
<p>The API is at <a href="/graphql">/graphql</a> (GraphiQL in a browser).</p>
<p>Operations: <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>,
<a href="/metrics">/metrics</a>.</p>
</body></html>
"""


def services_of(chronicle: Chronicle, reader: Reader | None = None) -> Services:
    s = chronicle.settings
    return Services(
        store=chronicle.store,
        runner=chronicle.runner,
        engine=chronicle.engine,
        execute=chronicle.execute,
        tokens=chronicle.tokens,
        max_page_size=s.max_page_size,
        read_wait_timeout=s.read_wait_timeout,
        bus=chronicle.bus,
        hub=LiveHub(chronicle.store, chronicle.bus, poll_interval=s.projection_poll_interval,
                    queue_size=s.live_queue_size),
        reader=reader,
    )


class ChronicleGraphQL(GraphQL[ChronicleContext, None]):
    """strawberry's ASGI view with Chronicle's context, GraphiQL and error metrics."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    identities: Identities | None = None
    """Set by the lifespan: closes sockets whose member's identity ended."""

    def __init__(
        self, schema: Any, metrics: Metrics, *, quotas: Quotas, plans: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(schema, **options)
        self.metrics = metrics
        self.quotas = quotas
        self.core_schema = schema._schema  # graphql-core's schema, for the plans
        self.plans = Plans(self.core_schema) if plans else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            if self.plans is not None and scope["method"] == "POST":
                replay = await self._run_planned(scope, receive, send)
                if replay is None:
                    return
                receive = replay
            request = Request(scope, receive)
            try:
                response = await self.run(request)
            except HTTPException as refused:  # strawberry's refusals, as GraphQL errors
                response = refusal(refused.reason, refused.status_code, _media_type(request))
            await response(scope, receive, send)
        except ClientDisconnect:
            # The client left before its request was read (a load generator
            # stopping, a closed tab): nobody to answer and nothing wrong here,
            # so no "Exception in ASGI application" traceback to format and log.
            return

    async def _run_planned(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Answer a query whose document has a plan (see schema/plans.py).

        Returns None once answered; otherwise a ``receive`` that replays the
        request for the full path (which also learns the document's plan).
        """
        assert self.plans is not None
        request = Request(scope, receive)
        content_type = request.headers.get("content-type", "")
        if content_type.partition(";")[0].strip().lower() != "application/json":
            return receive  # the body was not read: the full path reads it
        body = await request.body()
        replay = _replaying(body, receive)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return replay
        # Anything unusual, even extensions of 0 or false, is the full path's to refuse.
        if not isinstance(payload, dict) or payload.get("extensions") not in (None, {}) or (
            payload.keys() - _PLANNED_KEYS
        ):
            return replay
        query, name, variables = (
            payload.get("query"), payload.get("operationName"), payload.get("variables")
        )
        if not isinstance(query, str) or not isinstance(name, str | None) or not isinstance(
            variables, dict | None
        ):
            return replay
        plan = self.plans.get(query, name)
        if plan is None:
            if not self.plans.known(query, name):
                scope[_LEARN] = (query, name)
            return replay
        if request.headers.get("x-min-position"):
            return replay  # waiting for a position (and STALE_READ) is the full path's
        context = await self.get_context(request, Response())
        # A plan skips the schema extension, not the quotas: charged here, or
        # refused by the full path, which reports the refusal as specified.
        charge = self._charge(context, plan.document, name, variables)
        if charge is None:
            return replay
        try:
            data = await plan.run(self.core_schema, context, variables)
        except Abandon:
            self.metrics.planned_queries.labels("abandoned").inc()
            self.quotas.refund(caller_of(context)[0], charge.requested)  # the full path charges
            return replay
        self.metrics.planned_queries.labels("answered").inc()
        self.metrics.count_result([])
        result = {"data": data, "extensions": {"cost": charge.as_extension()}}
        answer = Response(self.encode_json(result),
                          media_type=media_type_header(_media_type(request)))
        await answer(scope, receive, send)
        return None

    def _charge(
        self, context: ChronicleContext, document: Any, name: str | None,
        variables: dict[str, Any] | None,
    ) -> Charge | None:
        try:
            return admit(self.quotas, self.core_schema, context, document, name, variables)
        except (GraphQLError, RateLimited):
            return None

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ChronicleContext:
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
        # strawberry's json.dumps costs ~1.7% of a feed request's CPU; orjson writes
        # the same compact JSON (UTF-8 instead of \u escapes) several times faster.
        # A str, not bytes: websocket messages go through here too, as text frames.
        try:
            return orjson.dumps(data).decode()
        except TypeError:  # an integer past 64 bits: only the standard encoder has those
            return json.dumps(data, separators=(",", ":"))

    async def render_graphql_ide(self, request: Request) -> Response:
        # Never strawberry's page: it loads GraphiQL from a public CDN (pitfall 8).
        if GRAPHIQL_INDEX.is_file():
            return FileResponse(GRAPHIQL_INDEX, media_type="text/html")
        return HTMLResponse(GRAPHIQL_MISSING)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        codes = [str((e.extensions or {}).get("code", "INTERNAL")) for e in result.errors or ()]
        self.metrics.count_result(codes)
        learn = request.scope.get(_LEARN)
        if learn is not None and self.plans is not None and not result.errors:
            query, name = learn
            self.plans.learn(query, name, parse(query))
        processed = await super().process_result(request, result)
        if _media_type(request) == GRAPHQL_RESPONSE and never_ran(result.errors, result.data):
            processed.pop("data", None)  # a request error: the operation never ran
        return processed


def _media_type(request: Request | WebSocket) -> str:
    return preferred_media_type(request.headers.get("accept"))


_PLANNED_KEYS = frozenset({"query", "operationName", "variables", "extensions"})
_LEARN = "chronicle.plan_to_learn"
"""Scope key: a query the full path runs while its plan is unknown, learned if it succeeds."""


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
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)
            if scope["type"] == "http":
                route = scope["path"] if scope["path"] in _KNOWN_ROUTES else "other"
                self.metrics.observe_request(
                    scope["method"], route, status or 500, time.perf_counter() - started
                )


_KNOWN_ROUTES = frozenset({"/", "/graphql", "/healthz", "/readyz", "/metrics"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _state_name(state: object) -> str:
    return str(getattr(state, "value", state))


async def readyz(request: Request) -> Response:
    chronicle: Chronicle | None = getattr(request.app.state, "chronicle", None)
    if chronicle is None:
        return JSONResponse({"ready": False, "reasons": ["starting"]}, status_code=503)
    reasons: list[str] = []
    try:
        async with chronicle.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as error:  # readiness reports, it does not crash
        reasons.append(f"database unreachable: {type(error).__name__}")
    projections: dict[str, str] = {}
    parked: dict[str, int] = {}
    if not reasons:
        try:
            statuses = await chronicle.runner.statuses()
        except Exception as error:
            statuses = []
            reasons.append(f"projection status unavailable: {type(error).__name__}")
        for status in statuses:
            state = _state_name(status.state)
            projections[status.name] = state
            parked[status.name] = status.parked
            if state != "LIVE":
                reasons.append(f"projection {status.name} is {state}")
    body = {
        "ready": not reasons, "reasons": reasons, "projections": projections,
        "parkedEvents": parked,
        # Parked events degrade one projection's rows, they do not stop the read side.
        "degraded": [
            f"projection {name} has {count} parked event(s); see Query.deadLetters"
            for name, count in parked.items() if count
        ],
    }
    return JSONResponse(body, status_code=503 if reasons else 200)


_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def metrics_allowed(request: Request, token: str | None) -> bool:
    """With a token, whoever sends it as a bearer token; without one, loopback clients only."""
    if token:
        sent = bearer_token(request.headers.get("authorization")) or ""
        return hmac.compare_digest(sent.encode(), token.encode())
    host = request.client.host if request.client else ""
    return host in _LOOPBACK or host.startswith("127.")


async def metrics_endpoint(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not metrics_allowed(request, settings.metrics_token):
        return JSONResponse(
            {"error": "metrics are served to loopback clients, or with CHRONICLE_METRICS_TOKEN"},
            status_code=403,
        )
    chronicle: Chronicle | None = getattr(request.app.state, "chronicle", None)
    metrics: Metrics = request.app.state.metrics
    if chronicle is not None:
        metrics.record_projections(
            await chronicle.store.head_position(), await chronicle.runner.statuses()
        )
    return Response(metrics.render(), media_type=CONTENT_TYPE)


def _store_metrics(app: Starlette) -> Any:
    chronicle: Chronicle | None = app.state.chronicle
    return None if chronicle is None else chronicle.store.metrics


async def home(request: Request) -> Response:
    if WEB_INDEX.is_file():
        return FileResponse(WEB_INDEX, media_type="text/html")
    return HTMLResponse(HOME)


class WebAppFiles(StaticFiles):
    """The web app's build; its client-side routes (``/posts/…``) get its index.html."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except StarletteHTTPException as missing:
            # A path with no file extension is a page of the app, not an asset.
            if missing.status_code != 404 or "." in path.rsplit("/", 1)[-1]:
                raise
            return FileResponse(WEB_INDEX, media_type="text/html")


def _static_mounts() -> list[Mount]:
    # Built assets (GraphiQL's bundle is based at /static/graphiql/; the web app at /),
    # when they have been built: a missing folder must not turn requests into errors.
    mounts = [Mount("/static", StaticFiles(directory=STATIC))] if STATIC.is_dir() else []
    if WEB_INDEX.is_file():
        mounts.append(Mount("/", WebAppFiles(directory=WEB_INDEX.parent)))
    return mounts


def create_app(settings: Settings | None = None, *, freeze_heap: bool = False) -> Starlette:
    """The app; ``freeze_heap`` (the served process) hides what start-up built from the GC."""
    # pydantic-settings fills every field from the environment; mypy cannot see that
    settings = settings or Settings()  # type: ignore[call-arg]
    metrics = Metrics()
    quotas = Quotas(
        max_cost=settings.max_query_cost,
        budget=settings.cost_budget_per_minute,
        registrations=settings.registrations_per_window,
        registration_seconds=settings.registration_window_seconds,
        list_size=settings.max_page_size,
    )
    limits = Limits(settings.max_query_depth, settings.max_aliases, settings.max_tokens,
                    settings.max_query_cost)
    graphql = ChronicleGraphQL(
        build_schema(limits, quotas),
        metrics,
        quotas=quotas,
        graphql_ide="graphiql",
        allowed_origins=settings.allowed_origins,
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        chronicle = await start(settings)
        # The requests' own driver-level reader (the caller's role on every
        # authenticated request), apart from the store's: see Services.reader.
        reader = reader_for(chronicle.engine)
        app.state.chronicle = chronicle
        app.state.services = services_of(chronicle, reader)
        graphql.identities = Identities(chronicle.store, chronicle.bus)
        await graphql.identities.start()
        if freeze_heap:
            # What exists now (schema, SQLAlchemy metadata and caches, the modules)
            # lives as long as the process: out of the collector's sight, a full
            # collection stops re-scanning ~150 000 objects every few hundred
            # requests (measured: gen-2 collection time per 1 000 feed requests
            # 0.33 -> 0.13 s of CPU). Only for the one app a served process runs:
            # in a test process creating many apps, frozen cycles would never be freed.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            app.state.chronicle = None
            try:
                await graphql.identities.stop()
                if app.state.services.hub is not None:
                    await app.state.services.hub.close()
                await reader.close()
            finally:
                await chronicle.stop()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/", home),
            *_static_mounts(),
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.settings = settings
    app.state.chronicle = None
    metrics.watch_store(lambda: _store_metrics(app))
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestIds, metrics=metrics)  # outermost: refusals get ids and metrics
    return app


def serve(settings: Settings) -> None:
    chronicle_logging.configure()
    uvicorn.run(
        create_app(settings, freeze_heap=True),
        host=settings.host,
        port=settings.port,
        workers=1,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        ws_max_size=settings.max_ws_message_bytes,
        access_log=settings.access_log,
        log_config=chronicle_logging.uvicorn_log_config(),
        lifespan="on",
    )
