"""`cl.chat(fn)` in a loaded app (what `nbchat serve` runs): the function is the handler."""

from __future__ import annotations

from pathlib import Path

from nbchat.testing import ChatTestClient

APP = """\
import nbchat as cl

async def answer(message, history):
    if message == "msg":
        return cl.Message(content="a message", author="Bot")
    if message == "none":
        return None
    if message == "number":
        return 42
    return f"{message} ({len(history)} before)"

cl.chat(answer)
"""


async def test_a_loaded_app_answers_with_the_function(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    async with ChatTestClient(app) as client:
        await client.send("hi")
        await client.send("again")
        await client.send("msg")
        await client.send("none")
        await client.send("number")
        replies = [(m["name"], m["output"]) for m in client.messages
                   if m["type"] == "assistant_message"]
    assert replies == [("Assistant", "hi (0 before)"), ("Assistant", "again (2 before)"),
                       ("Bot", "a message"), ("Assistant", "42")]
