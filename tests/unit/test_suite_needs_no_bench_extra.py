"""The product's test suite runs on ``.[dev]`` alone: nothing under tests/ imports a
benchmark module or a dependency that only the ``bench`` extra installs."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
BENCH_ONLY = {"bench", "eventsourcing", "psycopg", "psycopg_pool"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_test_module_imports_a_bench_only_module() -> None:
    offenders = {
        str(path.relative_to(TESTS)): sorted(imported_roots(path) & BENCH_ONLY)
        for path in sorted(TESTS.rglob("*.py"))
        if imported_roots(path) & BENCH_ONLY
    }
    assert offenders == {}
