"""A reply cut by kill -9 is shown and stored as stopped when its thread is resumed, not
as streaming forever."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import nbchat as cl
from nbchat.app import App
from nbchat.data import make_data_layer
from nbchat.runtime.recorder import LOCAL_USER
from nbchat.testing import ChatTestClient

CHILD = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    import nbchat as cl
    from nbchat.app import App, registering_on
    from nbchat.runtime.context import get_session
    from nbchat.data import make_data_layer
    from nbchat.testing import ChatTestClient

    app = App("killed")
    data = make_data_layer(sys.argv[1], Path(sys.argv[2]))
    with registering_on(app):
        @cl.on_message
        async def reply(message):
            msg = cl.Message(content="")
            await msg.stream_token("half a rep")
            async with cl.Step(name="tool", type="tool"):
                session = get_session("test")
                session.emitter.flush()
                await session.recorder._queue.join()
                await data.flush()   # the checkpoint is on disk: now kill me
                print("streaming", session.thread_id, flush=True)
                await asyncio.Event().wait()

    async def main():
        async with ChatTestClient(app, data_layer=data) as client:
            await client.send("go")

    asyncio.run(main())
""")


def test_a_reply_cut_by_kill_is_marked_stopped_on_resume(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(tmp_path)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    line = child.stdout.readline().split()
    assert line[0] == "streaming", line
    thread_id = line[1]
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    asyncio.run(resume(db, tmp_path, thread_id))


async def resume(db: Path, files: Path, thread_id: str) -> None:
    data = make_data_layer(str(db), files)
    try:
        before = await data.get_thread(thread_id)
        assert before is not None
        assert [s["streaming"] for s in before["steps"]] == [False, True, False]
        assert before["steps"][2]["end"] is None  # the tool step, started and never ended
        async with ChatTestClient(App("again"), user=LOCAL_USER, data_layer=data,
                                  resume_thread=thread_id) as client:
            shown = {s["id"]: s for s in client.steps}
            for step in before["steps"][1:]:
                assert shown[step["id"]]["streaming"] is False
                assert shown[step["id"]]["cancelled"] is True
                assert shown[step["id"]]["end"] is not None
            assert shown[before["steps"][1]["id"]]["output"] == "half a rep"
        after = await data.get_thread(thread_id)
        assert after is not None
        assert [(s["streaming"], s["cancelled"], s["end"] is not None)
                for s in after["steps"]] == [(False, False, True), (False, True, True),
                                             (False, True, True)]
        assert after["steps"][1]["output"] == "half a rep"
    finally:
        await data.close()


async def test_a_finished_thread_is_resumed_unchanged(tmp_path: Path) -> None:
    data = make_data_layer(str(tmp_path / "chat.db"), tmp_path)
    app = App("done")
    app.register("on_message", lambda message: cl.Message(content="ok").send())
    try:
        async with ChatTestClient(app, data_layer=data) as client:
            await client.send("hi")
            thread_id = client.session.thread_id
        before = await data.get_thread(thread_id)
        async with ChatTestClient(app, user=LOCAL_USER, data_layer=data,
                                  resume_thread=thread_id):
            pass
        assert await data.get_thread(thread_id) == before
    finally:
        await data.close()
