"""Markdown to Slack's mrkdwn, long text split, and button values back to client events."""

from __future__ import annotations

import pytest

from nbchat.channels.mrkdwn import split_text, to_mrkdwn
from nbchat.channels.relay import click_event


@pytest.mark.parametrize(("markdown", "mrkdwn"), [
    ("**bold** and __strong__", "*bold* and *strong*"),
    ("## A heading", "*A heading*"),
    ("[docs](https://x.test/?a=1&b=2)", "<https://x.test/?a=1&b=2|docs>"),
    ("~~gone~~ a<b & c>d", "~gone~ a&lt;b &amp; c&gt;d"),
    ("`**not bold**` stays", "`**not bold**` stays"),
    ("```\nif a<b: **x**\n```", "```\nif a&lt;b: **x**\n```"),
    ("| a | b |\n|---|---|\n| 1 | 2 |\n", "```\n| a | b |\n|---|---|\n| 1 | 2 |\n```\n"),
])
def test_markdown_becomes_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


def test_split_cuts_at_paragraphs_and_keeps_every_word() -> None:
    text = "\n\n".join(f"para {i} " + "w " * 40 for i in range(30))
    pieces = split_text(text, 500)
    assert all(len(p) <= 500 for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert all(p.startswith("para") for p in pieces)


def test_split_closes_and_reopens_a_code_block() -> None:
    text = "```\n" + "line\n" * 200 + "```"
    pieces = split_text(text, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert all(p.startswith("```") and p.endswith("```") for p in pieces)
    assert sum(p.count("line") for p in pieces) == 200


def test_short_text_is_one_piece() -> None:
    assert split_text("", 100) == [""]
    assert split_text("hi", 100) == ["hi"]


@pytest.mark.parametrize(("value", "event"), [
    ("action:a1", {"type": "action", "id": "a1"}),
    ("ask:k1:a2", {"type": "ask_response", "askId": "k1", "actionId": "a2"}),
    ("feedback:s1:0", {"type": "feedback", "stepId": "s1", "value": 0}),
    ("feedback:s1:7", None),
    ("ask:k1", None),
    ("something else", None),
])
def test_button_values_map_back_to_client_events(
        value: str, event: dict[str, object] | None) -> None:
    assert click_event(value) == event
