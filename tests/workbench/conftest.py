"""A stored conversation with every kind of turn, made by driving recorded_app.py through
ChatTestClient into a SQLite data layer in the test's folder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from nbchat.data import make_data_layer
from nbchat.testing import ChatTestClient
from nbchat.types import User

APP = Path(__file__).parent / "recorded_app.py"
PROMPTS = ["hello", "ask", "pick", "image", "button",
           "<script>alert(1)</script> [x](javascript:alert(1))"]


@dataclass
class Recorded:
    folder: Path  # the app folder: its .nbchat/nbchat.db holds the thread
    app: Path
    thread_id: str

    @property
    def url(self) -> str:
        return str(self.folder / ".nbchat" / "nbchat.db")


async def record(folder: Path, app: Path = APP) -> Recorded:
    target = folder / "app.py"
    shutil.copy(app, target)
    layer = make_data_layer(None, folder)
    try:
        async with ChatTestClient(target, data_layer=layer, user=User("local")) as client:
            for prompt in PROMPTS:
                await client.send(prompt)
                if prompt == "ask":
                    await client.answer("Ann")
                elif prompt == "pick":
                    await client.choose("blue")
                elif prompt == "button":
                    await client.click("more")
            reply = [m for m in client.messages if m["output"].startswith("You said **hello")]
            await client.feedback(reply[0]["id"], 1, "good")
            thread_id = client.session.thread_id
    finally:
        await layer.close()
    return Recorded(folder, target, thread_id)


@pytest.fixture
async def recorded(tmp_path: Path) -> Recorded:
    return await record(tmp_path)
