"""Chronicle builds on its dependencies' public names only (STYLE: speed through public seams).

broadcaster's transports live in its private ``_backends`` package; the bus
implements its own on the public ``BroadcastBackend`` and ``Event``. The
driver-level selects ask SQLAlchemy's public type API for their processors.
If a dependency moves one of these names, this fails before anything subtler does.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import broadcaster
from sqlalchemy.types import TypeEngine

ROOT = Path(__file__).resolve().parents[3]
PRODUCT = ("domain", "events", "projections", "mutations", "resolvers", "schema", "chronicle")


def test_broadcasters_public_transport_interface_is_there() -> None:
    backend = broadcaster.BroadcastBackend
    for method in ("connect", "disconnect", "subscribe", "unsubscribe", "publish",
                   "next_published"):
        assert inspect.iscoroutinefunction(getattr(backend, method)), method
    event = broadcaster.Event(channel="c", message="m")
    assert (event.channel, event.message) == ("c", "m")


def test_sqlalchemys_public_processor_api_is_there() -> None:
    for method in ("dialect_impl", "bind_processor", "result_processor"):
        assert callable(getattr(TypeEngine, method)), method


def test_no_product_module_imports_a_private_module_of_broadcaster() -> None:
    offenders = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = (
                    [alias.name for alias in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                )
                offenders += [
                    f"{path.relative_to(ROOT)}: {name}" for name in names
                    if name.startswith("broadcaster.") and any(
                        part.startswith("_") for part in name.split(".")[1:])
                ]
    assert offenders == []
