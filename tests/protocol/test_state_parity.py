"""The session's state mirror (state.py) and the browser's (js/src/store/reducer.ts) agree on
whether a callback runs: both replay the same cases, js/test/running-cases.json."""

import json
from pathlib import Path
from typing import Any

import pytest

from nbchat.runtime.state import SessionState

CASES = json.loads(
    (Path(__file__).resolve().parents[2] / "js" / "test" / "running-cases.json").read_text()
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_running_after_each_event_matches_the_shared_cases(case: dict[str, Any]) -> None:
    state = SessionState()
    seen = []
    for event in case["events"]:
        state.apply([event])
        seen.append(state.snapshot()["running"])
    assert seen == case["running"]
