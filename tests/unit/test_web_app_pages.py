"""The web app's build is served at ``/``, and its client-side routes get its index.html."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from chronicle import app as app_module


class Client:
    """Requests straight to the ASGI app, without its lifespan: only static routes are asked."""

    def __init__(self, app: object) -> None:
        self.transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]

    def get(self, path: str) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://app") as c:
                return await c.get(path)

        return asyncio.run(go())


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Client:
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>the app</title>")
    (web / "assets" / "app.js").write_text("console.log('app')")
    monkeypatch.setattr(app_module, "STATIC", tmp_path)
    monkeypatch.setattr(app_module, "WEB_INDEX", web / "index.html")
    return Client(app_module.create_app())


def test_a_page_of_the_app_reloaded_in_a_browser_gets_the_app(client: Client) -> None:
    for path in ("/", "/posts/p-1", "/posts/p-1/edit", "/signin"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "the app" in response.text


def test_assets_are_served_and_a_missing_one_is_still_a_404(client: Client) -> None:
    assert client.get("/assets/app.js").text == "console.log('app')"
    assert client.get("/assets/missing.js").status_code == 404
