"""A stored thread read back as turns: prompts, replies, the asks' answers and the clicks."""

from __future__ import annotations

from nbchat import history
from nbchat.workbench.stored import turns
from workbench.conftest import PROMPTS, Recorded


async def test_a_stored_thread_splits_into_the_turns_the_user_made(recorded: Recorded) -> None:
    stored = turns(history.thread(recorded.thread_id, recorded.folder))
    assert [t.prompt["output"] for t in stored] == PROMPTS  # "Ann" answered an ask
    by_prompt = {t.prompt["output"]: t for t in stored}
    assert by_prompt["hello"].reply == "You said **hello** (v1)"
    assert by_prompt["hello"].feedback is not None
    assert by_prompt["hello"].feedback["value"] == 1
    assert [s["name"] for s in by_prompt["hello"].tool_steps] == ["lookup", "model"]
    assert by_prompt["hello"].tokens == 5
    assert by_prompt["ask"].answers == [
        {"kind": "text", "stepId": by_prompt["ask"].steps[1]["id"], "content": "Ann"}]
    assert by_prompt["ask"].reply == "Your name?\n\nHi Ann"
    assert by_prompt["pick"].answers == [{"kind": "action", "name": "blue", "payload": {}}]
    assert by_prompt["button"].clicks == [{"name": "more", "payload": {"n": 1}}]
    assert by_prompt["button"].reply == "Press it\n\nmore 1"
