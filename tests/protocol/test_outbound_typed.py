"""Every server event is built through the protocol package (`protocol/outbound.py`) and
the emit entry points take `ServerEvent`, so mypy checks each against its TypedDict."""

import ast
import typing
from pathlib import Path

from nbchat import protocol
from nbchat.protocol import outbound
from nbchat.protocol.server_events import ServerEvent
from nbchat.runtime.emitter import Emitter
from nbchat.runtime.session import ChatSession

SRC = Path(__file__).resolve().parents[2] / "src" / "nbchat"
_SENDERS = {"emit", "send", "send_direct", "write_message"}


def _bare_event_literals(tree: ast.AST) -> list[int]:
    """Lines of dict literals with a "type" key passed to emit/send (or inside a list passed)."""
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _SENDERS):
            continue
        for arg in node.args:
            for inner in ast.walk(arg):
                if isinstance(inner, ast.Dict) and any(
                        isinstance(k, ast.Constant) and k.value == "type" for k in inner.keys):
                    lines.append(inner.lineno)
    return lines


def test_no_bare_server_event_dicts_outside_the_protocol_package() -> None:
    found = []
    for path in SRC.rglob("*.py"):
        if "protocol" in path.relative_to(SRC).parts:
            continue
        for line in _bare_event_literals(ast.parse(path.read_text(encoding="utf-8"))):
            found.append(f"{path.relative_to(SRC)}:{line}")
    assert not found, ("server events built as bare dicts (use nbchat.protocol.outbound): "
                       + ", ".join(found))


def test_the_guard_sees_a_bare_dict() -> None:
    tree = ast.parse('session.emit({"type": "notice", "level": "info", "message": "x"})\n'
                     'ws.write_message(encode([{"type": "error"}]))\n')
    assert _bare_event_literals(tree) == [1, 2]


def test_emit_entry_points_take_server_event() -> None:
    for func in (ChatSession.emit, Emitter.emit):
        hints = typing.get_type_hints(func)
        assert hints["event"] == ServerEvent, f"{func.__qualname__} takes {hints['event']}"


def test_each_constructor_builds_a_valid_unnumbered_event() -> None:
    built = [outbound.error("c", "m"), outbound.notice("info", "m"),
             outbound.step_delete("s"), outbound.token("s", "d", True), outbound.task_start(),
             outbound.task_end(), outbound.ask_cancel("a"), outbound.feedback("s", None),
             outbound.thread("t", None), outbound.upload_ticket("u", "t"),
             outbound.upload_done("u", "f"), outbound.element_delete("e"),
             outbound.action_delete("a"), outbound.settings([]), outbound.commands([]),
             outbound.modes([])]
    for event in built:
        cls = protocol.SERVER_EVENTS[event["type"]]
        hints = typing.get_type_hints(cls)
        required: frozenset[str] = cls.__required_keys__  # type: ignore[attr-defined]
        assert set(event) <= set(hints), event
        assert required <= set(event), event
        assert event["seq"] == 0
    assert "replace" not in outbound.token("s", "d")
    assert "clientId" not in outbound.step({"id": "s"})  # type: ignore[typeddict-item]
