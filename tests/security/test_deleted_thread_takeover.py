"""Attack class: taking over a deleted thread. Its id could be re-created by another user
through the REST upload route (which took over the old share link), and the owner's
still-open tab then wrote into that user's thread. Thread ids come only from the server,
and deleting a thread ends its live chats: the socket is told and closed, the session
closed, so nothing writes into that id again."""

from __future__ import annotations

from pathlib import Path

import nbchat as cl
from nbchat.app import App, registering_on

from .conftest import Start, api, connect

UPLOAD = (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
          b"Content-Type: text/plain\r\n\r\nmine now\r\n--B--\r\n")


def chatty_app(ended: list[str]) -> App:
    app = App("chatty")
    with registering_on(app):

        @cl.on_message
        async def echo(message: cl.Message) -> None:
            await cl.Message(content=f"echo {message.content}").send()

        @cl.on_chat_end
        async def bye() -> None:  # a write at the end of the chat, into its thread
            ended.append(cl.user_session.get("id"))
            await cl.Message(content="goodbye").send()

    return app


async def test_deleting_a_thread_ends_its_chats_and_nobody_can_recreate_it(
        start: Start, tmp_path: Path) -> None:
    ended: list[str] = []
    async with start(app=chatty_app(ended)) as served:
        data = served.host.data_layer
        assert data is not None
        owner_tab = await connect(served, "alice")
        session_id = (await owner_tab.hello())["sessionId"]
        await owner_tab.reply("my secret plans")
        thread_id = next(e for e in owner_tab.events if e["type"] == "thread")["id"]
        assert await data.get_thread_author(thread_id) == "alice"
        other_tab = await connect(served, "alice")  # another chat of hers: not touched
        await other_tab.hello()
        await other_tab.reply("another thread")

        deleted = await api(served, "alice", "DELETE", f"/threads/{thread_id}")
        assert deleted.code == 204, deleted.body
        told = await owner_tab.until(lambda e: e["type"] == "error")
        assert told["code"] == "thread_deleted", told
        while await owner_tab.conn.read_message() is not None:  # the server closes it
            pass
        owner_tab.conn.close()
        assert ended == [session_id]  # the session ran on_chat_end and is gone
        assert served.host.sessions.get(session_id) is None

        r = await api(served, "bob", "POST", f"/threads/{thread_id}/files", raw=UPLOAD,
                      headers={"Content-Type": "multipart/form-data; boundary=B"})
        assert r.code == 404, r.body
        await data.flush()
        assert await data.get_thread(thread_id) is None

        assert (await other_tab.reply("still on"))["step"]["output"] == "echo still on"
        await other_tab.close()

        # The owner's tab reconnects: its session is gone and the thread with it.
        again = await connect(served, "alice")
        await again.hello(sessionId=session_id, resumeThreadId=thread_id)
        await again.reply("new chat")
        codes = {e["code"] for e in again.events if e["type"] == "error"}
        assert {"unknown_session", "unknown_thread"} <= codes, again.events
        await again.close()
        await data.flush()
        assert await data.get_thread(thread_id) is None
