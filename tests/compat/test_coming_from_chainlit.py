"""docs/coming-from-chainlit.md stays true: every Chainlit name its first table claims
imports through the alias, its signature table is exactly the deliberate differences
test_signatures.py allows (no more, no fewer), and every Chainlit module nbchat does not
offer is named on the page."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from nbchat.chainlit_compat import alias_chainlit, modules

from .test_signatures import ALLOWED

PAGE = Path(__file__).resolve().parents[2] / "docs" / "coming-from-chainlit.md"


def _section(title: str) -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def _rows(section: str) -> list[list[str]]:
    """The cells of a markdown table's body rows."""
    rows = [line.strip().strip("|").split("|") for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("|---")]
    return [[cell.strip() for cell in row] for row in rows[1:]]  # past the header


def _resolve(dotted: str) -> Any:
    """`chainlit.a.b` as an app reaches it: `cl.a` when the package has such an attribute
    (`cl.context.emitter`), else `from chainlit.a import b` (`chainlit.server.app`)."""
    parts = dotted.split(".")
    value: Any = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        attribute = getattr(value, part, None)
        if attribute is not None and not isinstance(attribute, ModuleType):
            value = attribute
            continue
        try:
            value = importlib.import_module(".".join(parts[:i + 1]))
        except ModuleNotFoundError:
            value = getattr(value, part)
    return value


def test_every_name_the_page_says_carries_over_imports_through_the_alias() -> None:
    alias_chainlit()
    names = [re.fullmatch(r"`([\w.]+)`", row[0]) for row in _rows(_section("What carries over"))]
    assert names
    for found in names:
        assert found is not None, "each row starts with one `chainlit.…` name"
        assert _resolve(found[1]) is not None, found[1]  # a missing name raises


def test_the_signature_table_is_exactly_the_allowed_differences() -> None:
    documented: set[tuple[str, str]] = set()
    for callables, parameter, why in _rows(_section("Signatures that differ")):
        assert why, f"{callables} {parameter}: say why"
        for name in re.findall(r"`([\w.]+)`", callables):
            documented.add((name, parameter.strip("`")))
    assert documented == set(ALLOWED), (
        f"the page lists {sorted(documented - set(ALLOWED))} that test_signatures.py does not "
        f"allow, and omits {sorted(set(ALLOWED) - documented)}")


def test_every_module_nbchat_does_not_offer_is_named() -> None:
    section = _section("Chainlit modules nbchat does not offer")
    named = set(re.findall(r"`(chainlit\.[\w.]+)`", section))
    missing = sorted(set(modules.NOT_OFFERED) - named)
    assert not missing, f"the page does not name {missing}"
    offered = sorted(n for n in named if n not in modules.NOT_OFFERED
                     and n not in modules.MAPPED)
    assert not offered, f"the page calls {offered} not offered, but they are not in NOT_OFFERED"
