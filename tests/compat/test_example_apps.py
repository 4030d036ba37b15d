"""Chainlit-style example apps (tests/compat/apps, written for this project against
Chainlit's documented API, one per behaviour of Chainlit's own end-to-end suite) run
unmodified through ChatTestClient and behave as the spec in each app's docstring says."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from nbchat.testing import ChatTestClient
from nbchat.types import User

APPS = Path(__file__).with_name("apps")


def texts(client: ChatTestClient) -> list[str]:
    return [str(m["output"]) for m in client.messages]


def client(name: str, **options: Any) -> ChatTestClient:
    return ChatTestClient(APPS / f"{name}.py", **options)


async def test_actions_call_their_callback_and_one_removes_itself() -> None:
    async with client("actions") as chat:
        assert texts(chat) == ["Pick an action"]
        assert sorted(a["name"] for a in chat.actions) == ["greet", "once"]
        await chat.click("greet", {"who": "Ada"})
        assert texts(chat)[-1] == "Hello, Ada!"
        await chat.click("once", {})
        assert texts(chat)[-1] == "Done once"
        assert [a["name"] for a in chat.actions] == ["greet"]


async def test_asks_wait_for_text_a_choice_and_a_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("twelve chars", encoding="utf-8")
    async with client("asks") as chat:
        assert chat.pending_ask is not None
        assert chat.pending_ask["kind"] == "text"
        await chat.answer("Ada")
        assert "Your name is: Ada" in texts(chat)
        await chat.choose("yes")
        assert "You chose yes" in texts(chat)
        await chat.upload([notes])
        assert texts(chat)[-1] == "notes.txt has 12 characters"
        assert chat.pending_ask is None


async def test_commands_are_offered_chosen_and_cleared() -> None:
    async with client("commands") as chat:
        offered = [e for e in chat.events if e["type"] == "commands"]
        assert [c["id"] for c in offered[-1]["commands"]] == ["Picture", "Search"]
        await chat.send("find cats", command="Search")
        assert texts(chat)[-1] == "Command: Search"
        await chat.send("a cat", command="Picture")
        assert texts(chat)[-1] == "Command: Picture"
        offered = [e for e in chat.events if e["type"] == "commands"]
        assert offered[-1]["commands"] == []
        await chat.send("plain")
        assert texts(chat)[-1] == "Command: None"


async def test_modes_default_and_chosen_reach_the_message() -> None:
    async with client("modes") as chat:
        await chat.send("hi", modes={"model": "deep"})
        assert texts(chat)[-1] == "Model: deep / hi"


async def test_context_emitter_is_found_from_async_threads_and_run_sync() -> None:
    async with client("context_sync") as chat:
        assert texts(chat) == ["emitter from async found!", "emitter from make_async found!",
                               "emitter from async_from_sync found!"]


async def test_nested_steps_keep_input_and_output_and_a_removed_step_goes() -> None:
    async with client("steps") as chat:
        await chat.send("cats")
        by_name = {s["name"]: s for s in chat.steps}
        assert by_name["search"]["type"] == "tool"
        assert by_name["search"]["output"] == "results for cats"
        think = by_name["Think"]
        assert by_name["search"]["parentId"] == think["id"]
        assert json.loads(str(think["input"])) == {"query": "cats", "sources": 2}
        assert "Scratch" not in by_name
        assert texts(chat)[-1] == "thought about results for cats"
        assert not any(s.get("streaming") for s in chat.steps)


async def test_a_message_is_updated_and_another_removed() -> None:
    async with client("update_remove") as chat:
        assert texts(chat) == ["Hello, edited", "Still here"]


async def test_streamed_tokens_end_up_whole_and_the_streams_end() -> None:
    async with client("streaming") as chat:
        await chat.send("go")
        plan = next(s for s in chat.steps if s["name"] == "Plan")
        assert plan["output"] == "the quick brown fox"
        assert texts(chat)[-2:] == ["the quick brown fox", "late"]
        assert not any(s.get("streaming") for s in chat.steps)


@pytest.mark.parametrize(("profile", "expected"), [(None, "GPT-4"), ("GPT-3.5", "GPT-3.5")])
async def test_the_chosen_chat_profile_is_in_the_user_session(
        profile: str | None, expected: str) -> None:
    async with client("profiles", chat_profile=profile) as chat:
        assert texts(chat) == [f"starting chat using the {expected} chat profile"]


async def test_chat_settings_start_with_their_initial_values_and_updates_arrive() -> None:
    async with client("settings") as chat:
        assert texts(chat) == ["model=small stream=True"]
        await chat.update_settings(Model="large", Temperature=0.5)
        assert texts(chat)[-1] == "now model=large t=0.5"
        await chat.send("hi")
        assert texts(chat)[-1] == "> hi"


async def test_the_user_session_counts_messages_per_chat() -> None:
    async with client("user_session") as chat:
        for _ in range(3):
            await chat.send("x")
        assert texts(chat)[-1] == "You sent 3 message(s)!"
    async with client("user_session") as other:
        await other.send("x")
        assert texts(other)[-1] == "You sent 1 message(s)!"


async def test_elements_are_shown_on_their_message_and_a_removed_one_goes() -> None:
    async with client("elements") as chat:
        by_name = {e["name"]: e for e in chat.elements}
        assert sorted(by_name) == ["data.csv", "dot", "notes"]
        first = chat.messages[0]
        assert by_name["dot"]["forId"] == first["id"]
        assert by_name["dot"]["type"] == "image"
        assert by_name["notes"]["display"] == "side"
        assert by_name["data.csv"]["forId"] == chat.messages[1]["id"]


async def test_a_task_list_shows_its_tasks_and_their_new_status() -> None:
    async with client("tasklist") as chat:
        lists = [e for e in chat.elements if e["type"] == "tasklist"]
        assert len(lists) == 1
        shown = json.loads(lists[0]["content"])
        assert shown["status"] == "Failed"
        assert [(t["title"], t["status"]) for t in shown["tasks"]] == [
            ("Fetch the data", "done"), ("Write the report", "failed")]


async def test_an_exception_is_shown_and_the_chat_goes_on() -> None:
    async with client("errors") as chat:
        await chat.send("boom")
        assert chat.errors or any(m.get("isError") for m in chat.messages)
        shown = json.dumps(chat.events)
        assert "this went wrong" not in shown  # the exception text stays on the server
        await chat.send("after")
        assert texts(chat)[-1] == "echo: after"
        assert any(m.get("isError") and m["output"] == "an error message from the app"
                   for m in chat.messages)


async def test_starters_are_offered_and_one_sends_its_message() -> None:
    async with client("starters") as chat:
        welcome = next(e for e in chat.events if e["type"] == "welcome")
        assert [s["label"] for s in welcome["starters"]] == ["Say hi", "Ask time"]
        await chat.send(welcome["starters"][0]["message"])
        assert texts(chat)[-1] == "You said: hi there"


async def test_chat_context_holds_the_conversation_in_order() -> None:
    async with client("history") as chat:
        await chat.send("one")
        assert texts(chat)[-1] == "1 turns: user"
        await chat.send("two")
        assert texts(chat)[-1] == "3 turns: user,assistant,user"


async def test_author_rename_changes_the_shown_author() -> None:
    async with client("author") as chat:
        assert [m["name"] for m in chat.messages] == ["Helper", "Tool"]


async def test_stop_cancels_the_running_reply_and_the_chat_goes_on() -> None:
    working = asyncio.Event()

    def seen(batch: list[dict[str, Any]]) -> None:
        if any(e["type"] == "token" and "working" in str(e.get("delta")) for e in batch):
            working.set()

    async with client("lifecycle", timeout=5.0, on_events=seen) as chat:
        await chat.session.receive({"type": "user_message", "content": "slow"})
        await asyncio.wait_for(working.wait(), 5)
        await chat.stop()
        streamed = next(s for s in chat.steps if s["output"] == "working")
        assert streamed.get("cancelled") is True
        assert streamed["streaming"] is False
        await chat.send("again")
        assert texts(chat)[-1] == "stopped before: True"


async def test_sdk_names_find_the_emitter_and_the_types_are_nbchats(tmp_path: Path) -> None:
    notes = tmp_path / "n.txt"
    notes.write_text("x", encoding="utf-8")
    async with client("sdk") as chat:
        assert texts(chat) == ["emitter from async found!",
                               "emitter from asyncify and async_from_sync found!"]
        offered = [e for e in chat.events if e["type"] == "commands"]
        assert offered[-1]["commands"][0]["id"] == "Search"
        welcome = next(e for e in chat.events if e["type"] == "welcome")
        assert welcome["chatProfiles"][0]["starters"][0]["label"] == "Go"
        await chat.send("hi")
        await chat.upload([notes])
        assert texts(chat)[-1] == "got an AskFileResponse named n.txt"


async def test_a_profile_overrides_the_config_with_chainlits_settings_types(
        caplog: pytest.LogCaptureFixture) -> None:
    async with client("profile_overrides", chat_profile="Default") as plain:
        config = next(e for e in plain.events if e["type"] == "welcome")["config"]
        assert config["features"]["edit_message"] is True
    with caplog.at_level("WARNING", logger="nbchat"):
        async with client("profile_overrides", chat_profile="Renamed") as chat:
            config = next(e for e in chat.events if e["type"] == "welcome")["config"]
            assert config["ui"]["name"] == "Renamed UI"
            assert config["features"]["edit_message"] is False
            await chat.send("hi")
            assert texts(chat)[-1] == "Chat using Renamed profile"
            assert not chat.errors
    assert "features.mcp.enabled" in caplog.text


async def test_a_custom_chainlit_layer_stores_the_chat_and_resume_gets_it_back() -> None:
    user = User("ada")
    async with client("custom_layer", user=user) as chat:
        assert texts(chat) == ["Hello, send me a message!"]
        layer_module = chat.namespace
        await chat.send("hi there")
        assert texts(chat)[-1] == "Ok!"
        thread_id = next(e for e in chat.events if e["type"] == "welcome")["threadId"]
    threads = layer_module["THREADS"]
    stored = threads[thread_id]
    outputs = [s["output"] for s in stored["steps"]]
    # queued until the user's message, then written in order, the greeting included
    assert outputs[:2] == ["Hello, send me a message!", "hi there"]
    assert "Thinking..." in outputs
    assert "Ok!" in outputs
    assert stored["name"] == "hi there"
    assert stored["userIdentifier"] == "ada"
    assert (stored["metadata"] or {}).get("greeted") == "yes"
    # A server loads the app once; each client here loads it anew, so hand the resumed chat
    # a layer of the first load (whose THREADS hold the chat).
    same_layer = layer_module["MemoryDataLayer"]()
    async with client("custom_layer", user=user, resume_thread=thread_id,
                      data_layer=same_layer) as resumed:
        assert texts(resumed)[-1] == "Welcome back to hi there (greeted: yes)"


async def test_attached_files_reach_on_message_readable(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"0123456789")
    async with client("attachments") as chat:
        await chat.send("read this", files=[notes])
        assert texts(chat)[-1] == "notes.txt: 10 bytes, text/plain"
        await chat.send("nothing")
        assert texts(chat)[-1] == "no files with 'nothing'"


async def test_one_ask_takes_several_files_of_the_accepted_types(tmp_path: Path) -> None:
    paths: list[str | Path] = [tmp_path / "a.txt", tmp_path / "b.csv"]
    for path in paths:
        Path(path).write_text("x,y\n", encoding="utf-8")
    async with client("ask_files") as chat:
        ask = chat.pending_ask
        assert ask is not None
        assert ask["spec"]["maxFiles"] == 3
        await chat.upload(paths)
        assert texts(chat)[-1] == "2 files uploaded: a.txt, b.csv"


async def test_user_env_values_are_in_the_user_session(tmp_path: Path) -> None:
    (tmp_path / "nbchat.yaml").write_text("project:\n  user_env: [TEST_API_KEY]\n",
                                          encoding="utf-8")
    app = tmp_path / "user_env.py"
    app.write_text((APPS / "user_env.py").read_text(encoding="utf-8"), encoding="utf-8")
    async with ChatTestClient(app, env={"TEST_API_KEY": "sk-123456"}) as chat:
        assert texts(chat) == ["key ends with 3456"]


async def test_a_dataframe_is_an_element_with_its_rows() -> None:
    async with client("figures") as chat:
        frame = next(e for e in chat.elements if e["name"] == "cities")
        assert frame["type"] == "dataframe"
        assert "Lima" in str(frame.get("content"))
