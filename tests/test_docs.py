"""Docs that tests keep true: every hook, config key, env var and protocol event."""

import typing
from pathlib import Path

from nbchat import protocol
from nbchat.app import HOOKS
from nbchat.config import defaults_table

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_hook_is_documented() -> None:
    text = (DOCS / "api.md").read_text()
    missing = [h for h in [*HOOKS, "action_callback"] if f"@cl.{h}" not in text]
    assert not missing, f"docs/api.md does not document: {missing}"


def test_every_config_key_and_env_var_is_documented() -> None:
    text = (DOCS / "config.md").read_text()
    missing = [k for k, env, _, _ in defaults_table()
               if f"`{k}`" not in text or f"`{env}`" not in text]
    assert not missing, f"docs/config.md does not document: {missing}"


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    rest = text[start + len(heading):]
    end = rest.find("\n### ")
    return rest if end < 0 else rest[:end]


def test_every_protocol_event_and_field_is_documented() -> None:
    text = (DOCS / "protocol.md").read_text()
    client, server = text.split("## Server → client")
    for part, events in ((client, protocol.CLIENT_EVENTS), (server, protocol.SERVER_EVENTS)):
        for name, cls in events.items():
            heading = f"### `{name}`"
            assert heading in part, f"docs/protocol.md has no section for {name}"
            section = _section(part, heading)
            documented = {line.split("`")[1] for line in section.splitlines()
                          if line.startswith("| `")}
            fields = set(typing.get_type_hints(cls)) - {"type"}
            assert documented == fields, f"{name}: documented {documented}, defined {fields}"
