"""GraphiQL is served from the project's own built assets, never from a CDN.

`make install` builds web/graphiql into chronicle/static/graphiql; these read
the build output (run `make install` first when calling pytest directly).
"""

from __future__ import annotations

import re
from pathlib import Path

import chronicle

BUILD = Path(chronicle.__file__).parent / "static" / "graphiql"
BASE = "/static/graphiql/"
# Anything that would make the browser fetch code or styles from another host.
REMOTE_LOAD = re.compile(
    r"""<script[^>]+src=["']?(https?:)?//"""
    r"""|<link[^>]+href=["']?(https?:)?//"""
    r"""|@import\s+(url\()?["']?(https?:)?//"""
    r"""|url\(["']?(https?:)?//"""
    r"""|import\(["'](https?:)?//"""
    r"""|importScripts\(["'](https?:)?//""",
    re.IGNORECASE,
)


def test_the_page_loads_only_assets_that_the_build_contains() -> None:
    page = (BUILD / "index.html").read_text()

    urls = re.findall(r"""(?:src|href)="([^"]+)\"""", page)

    assert urls, "index.html references no script or stylesheet"
    for url in urls:
        assert url.startswith(BASE), url
        assert (BUILD / url.removeprefix(BASE)).is_file(), url


def test_no_built_file_loads_anything_from_another_host() -> None:
    built = [p for p in BUILD.rglob("*") if p.suffix in {".html", ".js", ".css"}]

    remote = [
        (p.name, m.group(0)) for p in built
        for m in REMOTE_LOAD.finditer(p.read_text(errors="replace"))
    ]

    assert len(built) > 3
    assert remote == []
