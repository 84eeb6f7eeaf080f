"""The operations endpoints: /healthz, /readyz and /metrics."""

from __future__ import annotations

import hmac

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from chronicle.bootstrap import Chronicle
from chronicle.metrics import CONTENT_TYPE, Metrics
from chronicle.settings import Settings
from schema.context import bearer_token


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
    """/metrics on the main port: loopback clients or the token, unless it has a port."""
    settings: Settings = request.app.state.settings
    if settings.metrics_port is not None:
        return PlainTextResponse("Not Found", status_code=404)
    if not metrics_allowed(request, settings.metrics_token):
        return JSONResponse(
            {"error": "metrics are served to loopback clients, or with CHRONICLE_METRICS_TOKEN"},
            status_code=403,
        )
    return await _metrics(request.app.state)


async def metrics_port_endpoint(request: Request) -> Response:
    """/metrics on its own port: the address it is bound to guards it, and the token if set."""
    settings: Settings = request.app.state.settings
    if settings.metrics_token and not metrics_allowed(request, settings.metrics_token):
        return JSONResponse({"error": "send CHRONICLE_METRICS_TOKEN as a bearer token"},
                            status_code=403)
    return await _metrics(request.app.state)


def metrics_app(state: State) -> Starlette:
    """The app of the metrics port: /metrics alone, over the main app's state."""
    app = Starlette(routes=[Route("/metrics", metrics_port_endpoint)])
    app.state = state
    return app


async def _metrics(state: State) -> Response:
    chronicle: Chronicle | None = getattr(state, "chronicle", None)
    metrics: Metrics = state.metrics
    if chronicle is not None:
        metrics.record_projections(
            await chronicle.store.head_position(), await chronicle.runner.statuses()
        )
    return Response(metrics.render(), media_type=CONTENT_TYPE)
