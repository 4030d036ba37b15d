"""Docs that tests keep true: every hook, config key, env var and protocol event."""

import re
import typing
from pathlib import Path

from nbchat import protocol
from nbchat.app import HOOKS
from nbchat.config import ENV_NAMES, ENV_OTHER, defaults_table

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


def test_config_keys_and_env_vars_named_in_the_docs_exist() -> None:
    # docs/frontend.md once documented `config.features.feedback`, a key nbchat never had.
    keys = {k for k, _, _, _ in defaults_table()}
    sections = {k.rsplit(".", i)[0] for k in keys for i in range(k.count(".") + 1)}
    envs = {*ENV_NAMES, *ENV_OTHER}
    unknown = []
    for doc in [*DOCS.glob("*.md"), DOCS.parent / "README.md"]:
        text = doc.read_text()
        for name in re.findall(r"`(?:welcome\.)?config\.([a-z_.]+)`", text):
            if name.split(".")[0] in sections and name not in sections:  # (not `config.py`)
                unknown.append(f"{doc.name}: config.{name}")
        for env in re.findall(r"\bNBCHAT_[A-Z0-9_]*[A-Z0-9]\b", text):
            if env not in envs:
                unknown.append(f"{doc.name}: {env}")
    assert not unknown, f"the docs name config keys or variables that do not exist: {unknown}"
