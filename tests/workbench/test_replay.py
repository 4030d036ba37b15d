"""nbchat.replay: stored threads played again to the same app, a changed one, or the
process's own handlers; one row per turn with the old and new reply and their steps."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import nbchat
import nbchat as cl
from nbchat import history
from nbchat.app import App, registering_on
from workbench.conftest import PROMPTS, Recorded


def test_the_same_app_gives_the_same_replies(recorded: Recorded) -> None:
    df = nbchat.replay(recorded.thread_id, app=recorded.app, app_dir=recorded.folder,
                       progress=False)
    assert isinstance(df, pd.DataFrame)
    assert df["prompt"].tolist() == PROMPTS
    assert df["same"].all(), df[~df["same"]][["prompt", "old_reply", "new_reply", "error"]]
    hello = df.iloc[0]
    assert hello["old_steps"] == hello["new_steps"] == ["lookup", "model"]
    assert hello["old_tokens"] == hello["new_tokens"] == 5
    assert hello["old_feedback"] == 1
    assert hello["old_feedback_comment"] == "good"
    assert hello["new_latency_s"] > 0
    assert hello["old_latency_s"] >= 0
    # The ask was answered with "Ann", the action ask with "blue", the button clicked.
    assert df.iloc[1]["new_reply"] == "Your name?\n\nHi Ann"
    assert df.iloc[2]["new_reply"] == "Pick one\n\nYou picked blue"
    assert df.iloc[4]["new_reply"] == "Press it\n\nmore 1"
    assert df["error"].isna().all()
    # Replays are not stored: the app folder still holds the one recorded thread.
    assert history.threads(recorded.folder)["id"].tolist() == [recorded.thread_id]


def test_a_changed_app_shows_text_and_step_differences_and_scores(
        recorded: Recorded, tmp_path: Path) -> None:
    changed = tmp_path / "v2.py"
    changed.write_text(recorded.app.read_text()
                       .replace('VERSION = "v1"', 'VERSION = "v2"')
                       .replace('name="model", type="llm"', 'name="bigger model", type="llm"')
                       .replace('cl.Action(name="blue", payload={})',
                                'cl.Action(name="green", payload={})'))

    async def judge(new: str, old: str) -> float:  # an async scorer, as an LLM judge is
        return 1.0 if new.split(" (v")[0] == old.split(" (v")[0] else 0.0

    def length(new: str, old: str) -> int:
        return len(new) - len(old)

    threads = history.threads(recorded.folder)  # a table of threads works as input
    df = nbchat.replay(threads, app=changed, app_dir=recorded.folder,
                       scorers={"judge": judge, "longer": length}, progress=False)
    hello = df.iloc[0]
    assert not hello["same"]
    assert "-You said **hello** (v1)\n+You said **hello** (v2)" in hello["diff"]
    assert hello["steps_changed"]
    assert hello["new_steps"] == ["lookup", "bigger model"]
    assert hello["judge"] == 1.0
    assert hello["longer"] == 0
    picked = df.iloc[2]  # the stored answer "blue" is no longer offered
    assert "offers no action 'blue'" in picked["error"]
    assert df.iloc[1]["same"]  # no version tag in the ask's reply


def test_the_current_handlers_by_default(recorded: Recorded, tmp_path: Path) -> None:
    app = App("notebook")
    with registering_on(app):

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message(content=message.content.upper()).send()

    thread = history.thread(recorded.thread_id, recorded.folder)
    with registering_on(app):  # what the notebook's decorators register on
        rows = nbchat.replay([thread], progress=False)
    assert rows["new_reply"].iloc[0] == "HELLO"
    # An ask the new handler never makes: its stored answer is simply not used.
    assert rows["new_reply"].iloc[1] == "ASK"


def test_bad_input_is_refused(recorded: Recorded) -> None:
    with pytest.raises(LookupError, match="no stored thread"):
        nbchat.replay(["nope"], app_dir=recorded.folder, progress=False)
    with pytest.raises(TypeError, match="an id or a thread dict"):
        nbchat.replay([42], progress=False)
    with pytest.raises(ValueError, match="concurrency"):
        nbchat.replay([], concurrency=0)
    with pytest.raises(ValueError, match="is a column"):
        nbchat.replay([], scorers={"diff": len})


def test_a_progress_bar_counts_the_turns(recorded: Recorded,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    nbchat.replay(recorded.thread_id, app=recorded.app, app_dir=recorded.folder)
    err = capsys.readouterr().err  # tqdm.auto: a text bar outside Jupyter
    assert "replay: 100%" in err
    assert f"{len(PROMPTS)}/{len(PROMPTS)}" in err
