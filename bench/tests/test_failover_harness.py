"""bench.failover finds the projections' owner and the survivor's position the way it says.

The owner is the server process whose socket talks to the PostgreSQL backend
holding the advisory lock (its client port, mapped through /proc); the
position is read from /metrics. Both are checked here without servers, in
milliseconds: the benchmark itself takes a PostgreSQL database, Redis and two
``chronicle serve`` processes.
"""

from __future__ import annotations

import os
import socket
from types import SimpleNamespace

import pytest

from bench.failover import POSITION_LINE, local_port_inodes, socket_inodes
from chronicle.metrics import Metrics


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux's /proc")
def test_a_client_port_leads_to_the_process_holding_the_socket() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as client:
            port = client.getsockname()[1]
            accepted, _ = listener.accept()
            with accepted:
                mine = socket_inodes(os.getpid())
                # Bound locally to the client's port: the client's socket, this process's
                # (the accepted one's local port is the listener's); not its parent's.
                assert local_port_inodes(port) & mine
                assert not local_port_inodes(port) & socket_inodes(os.getppid())


def test_the_position_is_read_from_what_metrics_renders() -> None:
    metrics = Metrics()
    statuses = [SimpleNamespace(name="users", position=7, lag=0, state="LIVE", parked=0),
                SimpleNamespace(name="posts", position=1234567, lag=3, state="LIVE", parked=0)]
    metrics.record_projections(1234570, statuses)
    found = {m["name"]: int(float(m["value"]))
             for m in POSITION_LINE.finditer(metrics.render().decode())}
    assert found == {"users": 7, "posts": 1234567}
