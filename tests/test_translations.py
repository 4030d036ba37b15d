"""Translations (issue 16): the shipped `nbchat/translations/<locale>.json` files are
complete and keep their placeholders; every key the front end looks up exists; an app's
Chainlit-style `.chainlit/translations/<lang>.json` and `chainlit_<lang>.md` reach the
browser in the welcome config."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import pytest

from nbchat.chainlit_compat.translations import app_readmes, app_translations
from nbchat.config import Config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "src" / "nbchat" / "translations"
LOCALES = {"en", "fr", "de", "es", "pt-BR", "zh-CN", "ja"}


def flat(tree: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, str):
            out[path] = value
        else:
            out.update(flat(value, path))
    return out


def shipped(locale: str) -> dict[str, str]:
    return flat(json.loads((SHIPPED / f"{locale}.json").read_text(encoding="utf-8")))


def test_every_locale_is_shipped_complete_with_the_same_placeholders() -> None:
    assert {p.stem for p in SHIPPED.glob("*.json")} == LOCALES
    english = shipped("en")
    for locale in LOCALES - {"en"}:
        table = shipped(locale)
        assert table.keys() == english.keys(), locale
        for key, text in english.items():
            assert set(re.findall(r"\{(\w+)\}", table[key])) == set(
                re.findall(r"\{(\w+)\}", text)), (locale, key)
            assert table[key].strip(), (locale, key)


def test_every_key_the_front_end_looks_up_exists() -> None:
    english = shipped("en")
    used: set[str] = set()
    for path in (ROOT / "js" / "src").rglob("*.ts"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\b(?:t|tr)\("([a-zA-Z0-9]+(?:\.[a-zA-Z0-9]+)+)"', text))
        used |= set(re.findall(
            r'"(?:text|label|placeholder|title)", "([a-zA-Z0-9]+(?:\.[a-zA-Z0-9]+)+)"\)', text))
        used |= set(re.findall(r'"((?:chat|common|threadHistory|navigation|tasks)\.[\w.]+)"', text))
    assert len(used) > 60
    missing = sorted(k for k in used if k not in english)
    assert not missing, missing


def test_an_apps_chainlit_translations_and_readmes_reach_the_browser(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / ".chainlit" / "translations"
    folder.mkdir(parents=True)
    (folder / "fr.json").write_text(json.dumps({
        # Chainlit 1.x's key for the composer's placeholder, and one of nbchat's own
        "components": {"organisms": {"chat": {"inputBox": {"input": {
            "placeholder": "Posez votre question"}}}}},
        "chat": {"input": {"actions": {"send": "Go"}}},
    }), encoding="utf-8")
    (folder / "de.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "chainlit_fr.md").write_text("# Bienvenue", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="nbchat"):
        strings = app_translations(tmp_path)
    assert strings == {"fr": {"chat.input.placeholder": "Posez votre question",
                              "chat.input.actions.send": "Go"}}
    assert "de.json is not a readable translation file" in caplog.text
    assert app_readmes(tmp_path) == {"fr": "# Bienvenue"}
    client = Config(app_dir=tmp_path).to_client()
    assert client["translations"]["fr"]["chat.input.actions.send"] == "Go"
    assert client["readmes"] == {"fr": "# Bienvenue"}
    # a changed file is read again
    (tmp_path / "chainlit_fr.md").write_text("# Salut", encoding="utf-8")
    os.utime(tmp_path / "chainlit_fr.md", (1, 1))
    assert app_readmes(tmp_path) == {"fr": "# Salut"}
