"""`nbchat chat APP`: the terminal chat, run as a real process with typed input."""

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "echo.py"


def test_terminal_chat_streams_replies_and_clicks_actions() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nbchat.cli", "chat", str(EXAMPLE)],
        input="hello big world\n/click shout\n/click nope\n/quit\n",
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Hi! Say something" in out                  # on_chat_start
    assert "✓ count words: 3 words" in out              # a finished step
    assert "hello big world" in out                     # the streamed reply
    assert "[Shout it]  (/click shout)" in out          # the action button
    assert "HELLO BIG WORLD!" in out                    # its callback's reply
    assert "! no action 'nope' is shown" in out         # a mistake is reported, chat goes on


def test_a_missing_app_is_a_clear_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nbchat.cli", "chat", "does/not/exist.py"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert "nbchat: no app file at" in result.stderr


def test_a_file_ask_says_to_type_a_path_and_takes_it(tmp_path: Path) -> None:
    app = tmp_path / "ask_file.py"
    app.write_text(
        "import nbchat as cl\n\n"
        "@cl.on_chat_start\n"
        "async def start():\n"
        "    files = await cl.AskFileMessage(content='Send a text file', accept=['text/plain'],\n"
        "                                    max_files=2).send()\n"
        "    await cl.Message(content=f'got {files[0].name}, {files[0].size} bytes').send()\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("twelve bytes")
    result = subprocess.run(
        [sys.executable, "-m", "nbchat.cli", "chat", str(app)],
        input=f"{notes}\n/quit\n", capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert ("  type the path of up to 2 files (text/plain; at most 2 MB each) and press Enter "
            "(several paths: separated by spaces)") in result.stdout
    assert "got notes.txt, 12 bytes" in result.stdout


def test_a_wrong_click_names_each_shown_action_once() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nbchat.cli", "chat", str(EXAMPLE)],
        input="one\ntwo\n/click nope\n/quit\n",   # two replies, each with a "shout" button
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("[Shout it]  (/click shout)") == 2
    assert "! no action 'nope' is shown; shown: ['shout']\n" in result.stdout


def test_ctrl_c_at_the_prompt_stops_at_once_and_says_so() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbchat.cli", "chat", str(EXAMPLE)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
    )
    try:
        stdout, stdin, stderr = proc.stdout, proc.stdin, proc.stderr
        assert stdout is not None
        assert stdin is not None
        assert stderr is not None
        # One turn, then Ctrl-C while the chat waits for the next line (stdin stays open).
        # Raw reads: a buffered readline could hold the awaited text while select waits.
        ready = selectors.DefaultSelector()
        ready.register(stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        seen = b""

        def wait_for(text: bytes) -> None:
            nonlocal seen
            while text not in seen:
                assert ready.select(deadline - time.monotonic()), f"no {text!r}: {seen!r}"
                chunk = os.read(stdout.fileno(), 65536)
                assert chunk, f"the chat ended before {text!r}: {seen!r}"
                seen += chunk

        wait_for(b"Hi! Say something")
        stdin.write(b"hello\n")
        wait_for(b"(/click shout)")       # the turn is over: the chat reads stdin again
        proc.send_signal(signal.SIGINT)
        # Before the fix it waited for Enter: this wait timed out.
        assert proc.wait(timeout=10) == 130
        assert b"nbchat: interrupted (Ctrl-C), stopped" in stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
