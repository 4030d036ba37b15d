"""`nbchat chat APP`: the terminal chat, run as a real process with typed input."""

import subprocess
import sys
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
