"""/metrics on a port of its own (CHRONICLE_METRICS_PORT), as operators run exporters.

This module runs servers of its own: the setting changes where /metrics lives.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import start_server
from tests.e2e.server import Server, free_port


@pytest.fixture
def metrics_port() -> int:
    return free_port()


@pytest.fixture
def served(tmp_path: Path, metrics_port: int) -> Iterator[Server]:
    server = start_server(tmp_path / "data", {"CHRONICLE_METRICS_PORT": str(metrics_port)})
    try:
        yield server
    finally:
        server.stop()


def test_metrics_are_served_on_their_port_and_not_on_the_main_one(
    served: Server, metrics_port: int
) -> None:
    httpx.post(served.graphql_url, json={"query": "{ headPosition }"})
    scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
    assert scraped.status_code == 200
    assert "chronicle_projection_position" in scraped.text
    assert "chronicle_http_requests_total" in scraped.text
    assert httpx.get(f"{served.base}/metrics").status_code == 404
    assert httpx.get(f"http://127.0.0.1:{metrics_port}/graphql").status_code == 404


def test_a_stopped_server_stops_its_metrics_port_too(served: Server, metrics_port: int) -> None:
    assert served.process is not None
    served.process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert served.process.wait(timeout=15) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in served.log()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")


def test_a_metrics_port_in_use_stops_the_start_with_its_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match="server exited at start") as failed:
            start_server(tmp_path / "data", {"CHRONICLE_METRICS_PORT": str(port)})
    assert "Address already in use" in str(failed.value)
