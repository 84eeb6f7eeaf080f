"""Prometheus metrics: what an operator graphs and alerts on.

Request and error counters are updated as requests are served; figures owned
by other components (the store's append latency and group-commit sizes, each
projection's position and lag) are read from them when ``/metrics`` is
scraped, so those components need not know Prometheus exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

CONTENT_TYPE: str = CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """One registry per app: two apps in one process (tests) never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "chronicle_http_requests", "HTTP requests served", ["method", "route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "chronicle_http_request_duration_seconds", "Time to serve an HTTP request",
            ["route"], buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.graphql_operations = Counter(
            "chronicle_graphql_operations", "GraphQL results returned over HTTP", registry=r
        )
        self.graphql_errors = Counter(
            "chronicle_graphql_errors", "GraphQL errors returned, by extensions.code", ["code"],
            registry=r,
        )
        self.projection_position = Gauge(
            "chronicle_projection_position", "Last global position a projection applied",
            ["projection"], registry=r,
        )
        self.projection_lag = Gauge(
            "chronicle_projection_lag_events", "Events between a projection and the log head",
            ["projection"], registry=r,
        )
        self.projection_live = Gauge(
            "chronicle_projection_live", "1 when the projection is LIVE", ["projection"],
            registry=r,
        )
        self.projection_parked = Gauge(
            "chronicle_projection_parked_events",
            "Events a projection could not apply and parked (dead-letter storage)",
            ["projection"], registry=r,
        )
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.head_position = Gauge(
            "chronicle_log_head_position", "Position of the last recorded event", registry=r
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # The labelled children, looked up once per (method, route, status): labels()
        # validates and locks on every call, a few per cent of a cached answer.
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(method, route, str(status)),
                self.request_seconds.labels(route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def count_result(self, codes: Iterable[str]) -> None:
        self.graphql_operations.inc()
        for code in codes:
            self.graphql_errors.labels(code).inc()

    def record_projections(self, head: int, statuses: Iterable[Any]) -> None:
        self.head_position.set(head)
        for status in statuses:
            self.projection_position.labels(status.name).set(status.position)
            self.projection_lag.labels(status.name).set(status.lag)
            self.projection_live.labels(status.name).set(1 if str(status.state) == "LIVE" else 0)
            self.projection_parked.labels(status.name).set(getattr(status, "parked", 0))

    def watch_store(self, figures: Callable[[], Any]) -> None:
        """Report the store writer's counters (``events.writer.WriterMetrics``) on each scrape."""
        self.registry.register(StoreCollector(figures))

    def watch_cache(self, cache: Any) -> None:
        """Report the response cache's counters (``chronicle.response_cache``) on each scrape."""
        self.registry.register(CacheCollector(cache))

    def watch_live(self, hub: Callable[[], Any]) -> None:
        """Report the live subscriptions' shared streams (``resolvers.hub.LiveHub``) on each
        scrape; ``hub`` gives the running one, or None."""
        self.registry.register(LiveCollector(hub))

    def watch_credentials(self, credentials: Any) -> None:
        """Report how often the token check was answered from memory (``resolvers.credentials``)."""
        self.registry.register(CredentialsCollector(credentials))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class LiveCollector(Collector):
    """Subscribers of the two shared streams, and those dropped for falling behind."""

    def __init__(self, hub: Callable[[], Any]) -> None:
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        hub = self._hub()
        listening = GaugeMetricFamily(
            "chronicle_live_subscribers", "Subscriptions listening to a shared stream",
            labels=["stream"])
        dropped = CounterMetricFamily(
            "chronicle_live_dropped_subscribers",
            "Subscriptions dropped from a shared stream for falling behind (they catch up "
            "from the store)", labels=["stream"])
        restarts = CounterMetricFamily(
            "chronicle_live_producer_restarts", "Shared streams' producers restarted after "
            "failing", labels=["stream"])
        resyncs = CounterMetricFamily(
            "chronicle_live_resyncs", "Read-model subscribers told to re-read because "
            "projection notices were lost")
        if hub is not None:
            for name, fanout in (("log", hub.log.fanout), ("changes", hub.changes.fanout)):
                listening.add_metric([name], fanout.listeners)
                dropped.add_metric([name], fanout.lagged)
                restarts.add_metric([name], fanout.restarts)
            resyncs.add_metric([], hub.changes.resyncs)
        yield from (listening, dropped, restarts, resyncs)


class CacheCollector(Collector):
    """The response cache's hits, misses, evictions and size, read when scraped."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def collect(self) -> Iterator[Metric]:
        c = self._cache
        for name, value, text in (
            ("hits", c.hits, "Queries answered from the response cache"),
            ("misses", c.misses, "Cacheable queries the executor answered"),
            ("evictions", c.evictions, "Entries dropped: a projection moved, or to stay in bounds"),
        ):
            yield CounterMetricFamily(f"chronicle_response_cache_{name}", text, value=value)
        yield GaugeMetricFamily("chronicle_response_cache_entries", "Entries held",
                                value=len(c))
        yield GaugeMetricFamily("chronicle_response_cache_bytes", "Bytes of answers held",
                                value=c.size_bytes)
        yield GaugeMetricFamily("chronicle_response_cache_heard_position",
                                "Position through which every projection's notices were heard",
                                value=c.known_through())


class CredentialsCollector(Collector):
    """Token checks answered from memory, and those that read the users table."""

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def collect(self) -> Iterator[Metric]:
        c = self._credentials
        yield CounterMetricFamily("chronicle_credentials_memory_hits",
                                  "Token checks answered from memory", value=c.hits)
        yield CounterMetricFamily("chronicle_credentials_memory_misses",
                                  "Token checks that read the users table", value=c.misses)


class StoreCollector(Collector):
    """The group-committing writer's own counters, read as they are when scraped."""

    def __init__(self, figures: Callable[[], Any]) -> None:
        self._figures = figures

    def collect(self) -> Iterator[Metric]:
        m = self._figures()

        def figure(name: str) -> float:
            return float(getattr(m, name, 0) or 0)

        yield SummaryMetricFamily(
            "chronicle_append_latency_seconds",
            "From a command's commit request to its durable commit (group commit included)",
            count_value=int(figure("append_latency_seconds_count")),
            sum_value=figure("append_latency_seconds_sum"),
        )
        yield CounterMetricFamily(
            "chronicle_group_commits", "Transactions the writer committed (groups of commands)",
            value=figure("groups_total"),
        )
        yield CounterMetricFamily(
            "chronicle_commits", "Commands committed (several per group)",
            value=figure("commits_total"),
        )
        yield CounterMetricFamily(
            "chronicle_events_appended", "Events appended to the log", value=figure("events_total")
        )
        yield GaugeMetricFamily(
            "chronicle_group_commit_size_last", "Commands in the last group commit",
            value=figure("last_group_size"),
        )
        yield GaugeMetricFamily(
            "chronicle_group_commit_size_max", "Most commands one group commit carried",
            value=figure("max_group_size"),
        )
