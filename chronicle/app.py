"""The ASGI application: the factory, its lifespan, the web app's pages.

``create_app`` builds a Starlette app whose lifespan starts Chronicle through
:func:`chronicle.bootstrap.start` (so the app, the CLI and the tests run the
same components) and stops it on shutdown. Everything holding asyncio state
is created inside the lifespan, never at import time. GraphQL is served by
``chronicle.view``, the operations endpoints by ``chronicle.operations``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from chronicle import logging as chronicle_logging
from chronicle.bootstrap import Chronicle, start
from chronicle.graphql_http import BodyLimit
from chronicle.metrics import Metrics
from chronicle.middleware import RequestIds
from chronicle.operations import healthz, metrics_app, metrics_endpoint, readyz
from chronicle.response_cache import ResponseCache
from chronicle.settings import Settings
from chronicle.view import ChronicleGraphQL
from events.read_recording import watch_engine_reads
from events.readers import reader_for
from events.reading import Reader
from projections.runner import read_model_tables
from resolvers.changes import FEED_PROJECTION
from resolvers.context import Services
from resolvers.credentials import Credentials, follow_notices
from resolvers.hub import LiveHub
from schema import build_schema
from schema.identities import Identities
from schema.limits import Limits
from schema.quotas import Quotas

STATIC = Path(__file__).parent / "static"
WEB_INDEX = STATIC / "web" / "index.html"
HOME = (Path(__file__).parent / "templates" / "home.html").read_text()
PROJECTIONS = frozenset({"posts", "users"})
"""The projections whose notices the response cache hears (see chronicle.response_cache)."""

log = logging.getLogger(__name__)


def services_of(chronicle: Chronicle, reader: Reader | None = None,
                credentials: Credentials | None = None) -> Services:
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
                    queue_size=s.live_queue_size,
                    applied=lambda: chronicle.runner.applied(FEED_PROJECTION)),
        reader=reader,
        credentials=credentials,
    )


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
    cache = (
        ResponseCache(max_entries=settings.response_cache_entries,
                      max_bytes=settings.response_cache_bytes, projections=PROJECTIONS,
                      read_model=read_model_tables())
        if settings.response_cache else None
    )
    # The members' credentials for the token check, in memory while the users
    # projection's notices are heard (resolvers.credentials).
    credentials = Credentials()
    graphql = ChronicleGraphQL(
        build_schema(limits, quotas),
        metrics,
        quotas=quotas,
        cache=cache,
        cache_bypass=settings.response_cache_bypass,
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
        runner = chronicle.runner
        credentials.positions = runner.positions
        app.state.chronicle = chronicle
        app.state.services = services_of(chronicle, reader, credentials)
        graphql.identities = Identities(chronicle.store, chronicle.bus)
        await graphql.identities.start()

        async def applied() -> dict[str, int]:
            return runner.positions()

        following = [asyncio.create_task(
            follow_notices(chronicle.bus, credentials, applied, "credentials"),
            name="credentials",
        )]
        if cache is not None:
            cache.positions = runner.positions
            watch_engine_reads(chronicle.engine)  # the cache's tags: what each answer read
            following.append(asyncio.create_task(cache.follow(chronicle.bus, applied),
                                                 name="response cache"))
        if freeze_heap:
            # What exists now (schema, SQLAlchemy metadata and caches, the modules)
            # lives as long as the process: out of the collector's sight, a full
            # collection stops re-scanning all of it every few hundred requests.
            # Only for the one app a served process runs:
            # in a test process creating many apps, frozen cycles would never be freed.
            gc.collect()
            gc.freeze()
            if settings.gc_young_threshold:
                # Young garbage mostly dies of reference counting before a collection
                # sees it; fewer collections promote less to the older generations.
                gc.set_threshold(settings.gc_young_threshold, 20, 10)
        metrics_port = None
        try:
            metrics_port = _serve_metrics(app.state, settings)
            yield
        finally:
            if metrics_port is not None:
                server, serving = metrics_port
                server.should_exit = True
                await serving
            app.state.chronicle = None
            for task in following:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
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
    if cache is not None:
        metrics.watch_cache(cache)
    metrics.watch_live(lambda: getattr(getattr(app.state, "services", None), "hub", None))
    metrics.watch_credentials(credentials)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestIds, metrics=metrics)  # outermost: refusals get ids and metrics
    return app


def _serve_metrics(
    state: State, settings: Settings
) -> tuple[uvicorn.Server, asyncio.Task[None]] | None:
    """/metrics on its own port (``CHRONICLE_METRICS_PORT``), in this process and loop.

    The socket is bound here, so a port in use fails the start-up with its error. A
    signal stops this server first, which hands it on to the main one (uvicorn
    restores the handlers it replaced and raises the signal again).
    """
    if settings.metrics_port is None:
        return None
    family = socket.AF_INET6 if ":" in settings.metrics_host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.metrics_host, settings.metrics_port))
        sock.listen(128)  # connections queue from now on, before the server task runs
    except OSError:
        sock.close()
        raise
    config = uvicorn.Config(metrics_app(state), lifespan="off", access_log=False,
                            log_config=None)
    server = uvicorn.Server(config)
    log.info("metrics served on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    return server, asyncio.create_task(server.serve(sockets=[sock]), name="metrics port")


def serve(settings: Settings) -> None:
    chronicle_logging.configure()
    uvicorn.run(
        create_app(settings, freeze_heap=True),
        host=settings.host,
        port=settings.port,
        workers=1,
        ws=settings.ws_implementation,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        ws_max_size=settings.max_ws_message_bytes,
        access_log=settings.access_log,
        log_config=chronicle_logging.uvicorn_log_config(),
        lifespan="on",
    )
