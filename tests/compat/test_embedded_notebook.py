"""notebooks/embedded.ipynb, a Chainlit-style notebook app with its own HTTP route and
window messages: through ChatTestClient (playing the embedding page) and `nbchat serve`
(the route over HTTP, the window messages over the chat's WebSocket)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nbchat.testing import ChatTestClient
from serve.helpers import WsClient, fetch

from .served import env, start, stop

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "embedded.ipynb"


async def test_the_notebook_talks_with_its_page_in_the_test_client(tmp_path: Path) -> None:
    shutil.copy(NOTEBOOK, tmp_path / "embedded.ipynb")
    async with ChatTestClient(tmp_path / "embedded.ipynb") as client:
        assert client.window_messages == [{"type": "ready"}]
        turn = await client.post_window_message({"user": "ada"})
        assert turn[-1]["output"] == "The portal says: {'user': 'ada'}"
        await client.send("where am I?")
        assert [c["name"] for c in client.call_fns] == ["currentPage"]
        turn = await client.answer_call_fn({"path": "/orders/7"})
        assert turn[-1]["output"] == "You are on /orders/7."


async def test_nbchat_serve_answers_the_notebooks_route_and_its_window_messages(
        tmp_path: Path) -> None:
    shutil.copy(NOTEBOOK, tmp_path / "embedded.ipynb")
    process = await start(tmp_path / "embedded.ipynb",
                          env(NBCHAT_SERVER_EMBED_ORIGINS="https://portal.example.com"))
    try:
        url = (await process.line(r"at (http://\S+)")).group(1)
        status = await fetch(url + "api/status")
        assert json.loads(status.body) == {"app": "embedded", "ok": True}
        page = await fetch(url)
        assert "frame-ancestors 'self' https://portal.example.com" in page.headers[
            "Content-Security-Policy"]
        client = await WsClient.connect(url.replace("http://", "ws://") + "ws")
        try:
            await client.hello()
            await client.until(lambda e: e["type"] == "window_message"
                               and e["data"] == {"type": "ready"})
            await client.send({"type": "window_message", "data": "hello"})
            await client.until(lambda e: e["type"] == "step"
                               and e["step"]["output"] == "The portal says: hello")
        finally:
            await client.close()
    finally:
        await stop(process)
