"""A real Chronicle server in a subprocess, and a GraphQL client speaking to it over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

VENV_BIN = Path(sys.executable).parent
CHRONICLE = VENV_BIN / "chronicle"
STARTUP_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique(prefix: str = "u") -> str:
    """A fresh username: servers are shared by a module's tests."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@dataclass
class Server:
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.base}/graphql"

    def start(self) -> None:
        env = {**os.environ, **self.env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(CHRONICLE), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited at start:\n{self.log()[-4000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not ready in {STARTUP_TIMEOUT:g} s:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the ``chronicle`` command line against this server's database."""
        return subprocess.run(
            [str(CHRONICLE), *args], env={**os.environ, **self.env},
            capture_output=True, text=True, timeout=60, check=False,
        )

    def post_sync(self, query: str, variables: dict[str, Any] | None = None,
                  token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(self.graphql_url, json={"query": query, "variables": variables},
                              headers=headers, timeout=30)
        body: dict[str, Any] = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]  # type: ignore[no-any-return]


class Api:
    """``gql`` over HTTP against one server; a token makes the call as that member."""

    def __init__(self, server: Server) -> None:
        self.server = server

    async def __call__(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        transport = HTTPXAsyncTransport(url=self.server.graphql_url, headers=all_headers,
                                        timeout=300)
        client = Client(transport=transport, fetch_schema_from_transport=False, execute_timeout=300)
        async with client as session:
            request = GraphQLRequest(document, variable_values=variables, extensions=extensions)
            return await session.execute(request)

    async def error(self, document: str, variables: dict[str, Any] | None = None,
                    **options: Any) -> dict[str, Any]:
        """The first GraphQL error the call fails with (fails the test if it succeeds)."""
        try:
            data = await self(document, variables, **options)
        except TransportQueryError as failed:
            assert failed.errors, failed
            return dict(failed.errors[0])
        raise AssertionError(f"expected an error, got {data}")

    async def raw(self, body: dict[str, Any], headers: dict[str, str] | None = None,
                  token: str | None = None) -> httpx.Response:
        """The HTTP response itself: for headers and for scanning the raw JSON."""
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        async with httpx.AsyncClient(timeout=60) as client:
            return await client.post(self.server.graphql_url, json=body, headers=all_headers)


def code_of(error: dict[str, Any]) -> str:
    return str((error.get("extensions") or {}).get("code"))
