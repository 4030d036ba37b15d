"""Docs that tests keep true: every public name, decorator signature, config key, env var and
protocol event."""

import ast
import inspect
import re
import typing
from pathlib import Path
from typing import Any

import pytest

import nbchat
from nbchat import protocol
from nbchat.app import HOOKS
from nbchat.config import ENV_NAMES, ENV_OTHER, defaults_table

DOCS = Path(__file__).resolve().parent.parent / "docs"


# The parameter a decorator receives the decorated function in; not part of its documented call.
DECORATED = {"func", "original_function"}
DECORATORS = [*HOOKS, "action_callback", "step"]


def test_every_public_name_is_documented_in_the_api_reference() -> None:
    text = (DOCS / "api.md").read_text()
    missing = [n for n in nbchat.__all__ if not re.search(rf"\bcl\.{re.escape(n)}\b", text)]
    assert not missing, f"docs/api.md does not document: {missing}"


def _documented_calls(text: str, name: str) -> list[tuple[bool, list[str], dict[str, Any]]]:
    """Each `@cl.<name>` or `@cl.<name>(...)` in backticks: (bare, positional, keywords)."""
    calls = []
    for match in re.finditer(rf"`@cl\.{name}(?:\((?P<args>[^`]*)\))?`", text):
        call = ast.parse(f"f({match['args'] or ''})", mode="eval").body
        assert isinstance(call, ast.Call)
        positional = [a.id for a in call.args if isinstance(a, ast.Name)]
        assert len(positional) == len(call.args), f"@cl.{name}: positional args must be names"
        keywords = {str(k.arg): ast.literal_eval(k.value) for k in call.keywords}
        calls.append((match["args"] is None, positional, keywords))
    return calls


@pytest.mark.parametrize("name", DECORATORS)
def test_every_decorator_is_documented_with_its_signature(name: str) -> None:
    calls = _documented_calls((DOCS / "api.md").read_text(), name)
    assert calls, f"docs/api.md has no `@cl.{name}` or `@cl.{name}(...)`"
    params = inspect.signature(getattr(nbchat, name)).parameters.values()
    takes_function = [p for p in params if p.name in DECORATED]
    args = [p for p in params if p.name not in DECORATED]
    required = [p.name for p in args if p.default is p.empty]
    defaults = {p.name: p.default for p in args if p.default is not p.empty}
    for bare, positional, keywords in calls:
        if bare:
            # Usable as `@cl.name` only when it takes the function itself.
            assert takes_function, f"@cl.{name} takes arguments: document @cl.{name}({required})"
            continue
        assert not (takes_function and takes_function[0].default is inspect.Parameter.empty), (
            f"@cl.{name} is used bare, not called: document it as `@cl.{name}`")
        assert positional == required, f"@cl.{name}: documented {positional}, takes {required}"
        assert keywords == {k: v for k, v in defaults.items() if k in keywords}, (
            f"@cl.{name}: documented defaults {keywords}, real ones {defaults}")
        assert not keywords or set(keywords) == set(defaults), (
            f"@cl.{name}: documented options {sorted(keywords)}, takes {sorted(defaults)}")


def _config_table() -> str:
    rows = [(key, env, tp.replace("|", "\\|"), default)
            for key, env, tp, default in defaults_table()]
    return "\n".join(f"| `{key}` | `{env}` | {tp} | `{default}` |"
                     for key, env, tp, default in rows)


def test_config_keys_table_is_the_generated_one() -> None:
    # Every key, env var, type and default, as defaults_table() gives them; on failure paste
    # the table printed here into docs/config.md.
    table = _config_table()
    assert table in (DOCS / "config.md").read_text(), f"docs/config.md keys table:\n{table}"


def test_every_config_key_is_described() -> None:
    text = (DOCS / "config.md").read_text()
    described = text.split("What the keys do:", 1)[1]
    bullets = {name for line in described.splitlines() if line.startswith("- ")
               for name in re.findall(r"`([a-z_.]+)`", line.split(":", 1)[0])}
    undescribed = [key for key, _, _, _ in defaults_table()
                   if not any(key == b or key.startswith(f"{b}.") for b in bullets)]
    assert not undescribed, f"docs/config.md 'What the keys do' misses: {undescribed}"


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    rest = text[start + len(heading):]
    ends = [i for i in (rest.find("\n### "), rest.find("\n## ")) if i >= 0]
    return rest[:min(ends)] if ends else rest


def test_every_protocol_event_and_field_is_documented() -> None:
    text = (DOCS / "protocol.md").read_text()
    client, rest = text.split("## Server → client")
    server, host = rest.split("## Widget host messages")
    host_messages = {**protocol.HOST_REQUESTS, **protocol.HOST_REPLIES}
    for part, events, tag in ((client, protocol.CLIENT_EVENTS, "type"),
                              (server, protocol.SERVER_EVENTS, "type"),
                              (host, host_messages, "host")):
        for name, cls in events.items():
            heading = f"### `{name}`"
            assert heading in part, f"docs/protocol.md has no section for {name}"
            section = _section(part, heading)
            documented = {line.split("`")[1] for line in section.splitlines()
                          if line.startswith("| `")}
            fields = set(typing.get_type_hints(cls)) - {tag}
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
