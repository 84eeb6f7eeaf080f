"""Settings from the environment (``CHRONICLE_…``), defaulting to the embedded setup."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHRONICLE_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None
    """Default: ``sqlite+aiosqlite:///<data_dir>/chronicle.db``."""
    broadcast_url: str = "memory://"
    """``memory://``, ``redis://host:port`` or ``postgres://…``."""
    secret_key: str | None = None
    """Required unless the database is the embedded SQLite default (then generated once)."""

    host: str = "127.0.0.1"
    port: int = 8000

    token_ttl_seconds: int = 7 * 24 * 3600
    snapshot_every: int = Field(100, ge=2)
    sqlite_synchronous: str = "FULL"
    group_commit_max: int = 1000
    """Most commands one group commit carries."""
    idempotency_ttl_seconds: int = Field(24 * 3600, ge=1)
    """How long an idempotency key is remembered (README "Idempotency keys")."""

    read_wait_timeout: float = 5.0
    """How long a read waits for projections to reach X-Min-Position before STALE_READ."""
    pg_read_connect_timeout_seconds: float = Field(10.0, gt=0)
    """PostgreSQL: how long the store's driver-level reader may take to open a connection."""
    pg_read_command_timeout_seconds: float = Field(30.0, gt=0)
    """PostgreSQL: how long one driver-level read may take before it fails."""
    projection_batch_size: int = 1000
    projection_poll_interval: float = 1.0
    """Fallback poll when no bus notice arrives."""

    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536
    """argon2id cost (the library's defaults); tests and benchmarks may lower it."""

    login_max_failures: int = 5
    login_window_seconds: int = 900

    max_page_size: int = 100
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_query_cost: int = 5000
    """Most an operation may cost (README.md, "Query cost and rate limits"); 0: no limit."""
    cost_budget_per_minute: int = 20000
    """Cost each member (or anonymous client address) may spend per minute; 0: no limit."""
    registrations_per_window: int = 5
    """Registrations per client address per ``registration_window_seconds``; 0: no limit."""
    registration_window_seconds: int = 600
    metrics_port: int | None = Field(None, ge=1, le=65535)
    """When set, /metrics is served on this port (on ``metrics_host``) and not on the main
    one: whoever reaches that port may read it, unless ``metrics_token`` is set too."""
    metrics_host: str = "127.0.0.1"
    metrics_token: str | None = None
    """When set, /metrics wants ``Authorization: Bearer <token>``; unset, it answers
    loopback clients only."""
    ws_per_message_deflate: bool = False
    ws_implementation: Literal["websockets-sansio", "websockets", "wsproto"] = "websockets-sansio"
    """uvicorn's websocket protocol. The sans-I/O one keeps no tasks of its own per socket
    (its keepalive is a timer), where the older ``websockets`` one runs three: less memory
    per idle subscriber (bench/README.md, bench.fanout)."""
    max_request_bytes: int = Field(1024 * 1024, ge=1024)
    """Largest HTTP request body (HTTP 413 past it); websocket frames have their own cap."""
    ws_init_timeout_seconds: float = Field(10.0, gt=0)
    """How long a websocket may stay open before its ``connection_init`` (then 4408)."""
    max_ws_message_bytes: int = Field(1024 * 1024, ge=1024)
    """Largest websocket frame a client may send (uvicorn closes the socket with 1009)."""
    gc_young_threshold: int = Field(50_000, ge=0)
    """A served process's cyclic collector runs after this many net allocations (CPython's
    default is 700): with a thousand live subscribers every collection of the older
    generations walks their sockets' objects, long pauses in every delivery (bench/README.md,
    bench.fanout). 0 leaves CPython's thresholds as they are."""
    max_subscriptions_per_connection: int = Field(100, ge=1)
    """Operations one websocket may run at once; past it a subscribe gets RATE_LIMITED."""
    live_queue_size: int = Field(256, ge=1)
    """Shared batches a live subscriber may fall behind before it leaves the shared
    stream and catches up from the store on its own (bounds memory per socket)."""
    access_log: bool = True
    """One JSON log line per HTTP request (with its request id)."""
    allowed_origins: list[str] = ["*"]
    response_cache: bool = True
    """Cache query answers until a projection they read moves (chronicle/response_cache.py)."""
    response_cache_entries: int = Field(10_000, ge=0)
    response_cache_bytes: int = Field(64 * 1024 * 1024, ge=0)
    response_cache_bypass: bool = False
    """Tests only: ``X-Chronicle-Cache: bypass`` runs a query without the cache."""

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'chronicle.db'}"

    @property
    def is_embedded(self) -> bool:
        return self.database_url is None

    def resolved_secret_key(self) -> str:
        """The signing secret: from the environment, or generated into the data folder."""
        if self.secret_key:
            return self.secret_key
        if not self.is_embedded:
            raise RuntimeError(
                "CHRONICLE_SECRET_KEY is required when CHRONICLE_DATABASE_URL is set"
            )
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
