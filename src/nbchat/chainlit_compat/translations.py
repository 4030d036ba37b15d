"""An app's own UI strings and per-language readmes, read as Chainlit lays them out:

    .chainlit/translations/<lang>.json   nested JSON, string leaves ("fr.json", "pt-BR.json")
    chainlit_<lang>.md                   the readme in that language ("chainlit_fr.md")

The browser lays an app's strings over nbchat's shipped ones (`nbchat/translations/`), key
by key. nbchat's keys are in `nbchat/translations/en.json`; Chainlit 1.x keys that name the
same string (`components.organisms.chat.inputBox.input.placeholder`, …) are renamed to
nbchat's, so an app's existing file carries over. A file that is not valid JSON is left out
with a warning naming it; nothing else is lost. Both are read again only when a file
changes (per folder: the names and modification times of the files are the cache key).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("nbchat")

TRANSLATIONS_DIR = Path(".chainlit") / "translations"
_README = re.compile(r"chainlit_([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.md")
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")

# Chainlit 1.x translation keys → nbchat's (the same string in both UIs).
_CHAINLIT_KEYS = {
    "components.organisms.chat.inputBox.input.placeholder": "chat.input.placeholder",
    "components.organisms.chat.inputBox.SubmitButton.sendMessage": "chat.input.actions.send",
    "components.organisms.chat.inputBox.SubmitButton.stopTask": "chat.input.actions.stop",
    "components.organisms.chat.inputBox.UploadButton.attachFiles":
        "chat.input.actions.attachFiles",
    "components.organisms.chat.settings.settingsPanel": "chat.settings.title",
    "components.organisms.chat.settings.reset": "chat.settings.reset",
    "components.organisms.chat.settings.cancel": "chat.settings.cancel",
    "components.organisms.chat.settings.confirm": "chat.settings.confirm",
    "components.organisms.chat.Messages.index.running": "common.status.running",
    "components.molecules.newChatButton.newChat": "navigation.newChat.button",
    "components.molecules.tasklist.TaskList.loading": "common.status.loading",
    "components.atoms.buttons.userButton.menu.logout": "navigation.user.menu.logout",
    "components.organisms.threadHistory.sidebar.filters.SearchBar.search":
        "threadHistory.search",
    "components.organisms.threadHistory.sidebar.index.pastChats": "threadHistory.label",
    "components.organisms.threadHistory.sidebar.TriggerButton.openSidebar":
        "navigation.sidebar.toggle",
    "pages.Env.requiredApiKeys": "userEnv.title",
}

_cache: dict[tuple[Path, str], tuple[tuple[tuple[str, float], ...], dict[str, Any]]] = {}


def _flatten(tree: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(tree, dict):
        for key, value in tree.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(tree, str) and prefix:
        out[_CHAINLIT_KEYS.get(prefix, prefix)] = tree


def _stamp(files: list[Path]) -> tuple[tuple[str, float], ...]:
    stamps = []
    for path in files:
        try:
            stamps.append((path.name, path.stat().st_mtime))
        except OSError:
            continue
    return tuple(sorted(stamps))


def _cached(app_dir: Path, kind: str, files: list[Path], read: Any) -> dict[str, Any]:
    key = (app_dir.resolve(), kind)
    stamp = _stamp(files)
    hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value: dict[str, Any] = read(files)
    _cache[key] = (stamp, value)
    return value


def app_translations(app_dir: Path) -> dict[str, dict[str, str]]:
    """{locale: {nbchat key: text}} from `.chainlit/translations/*.json`."""
    folder = app_dir / TRANSLATIONS_DIR
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []

    def read(paths: list[Path]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for path in paths:
            if not _LOCALE.fullmatch(path.stem):
                continue
            try:
                tree = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                log.warning("nbchat: %s is not a readable translation file (%s); its strings "
                            "are left out", path, exc)
                continue
            strings: dict[str, str] = {}
            _flatten(tree, "", strings)
            out[path.stem] = strings
        return out

    return _cached(app_dir, "translations", files, read)


def app_readmes(app_dir: Path) -> dict[str, str]:
    """{locale: markdown} from `chainlit_<locale>.md` beside the app."""
    files = sorted(p for p in app_dir.glob("chainlit_*.md") if _README.fullmatch(p.name))

    def read(paths: list[Path]) -> dict[str, str]:
        out: dict[str, str] = {}
        for path in paths:
            match = _README.fullmatch(path.name)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                log.warning("nbchat: cannot read %s (%s)", path, exc)
                continue
            if match:
                out[match.group(1)] = text
        return out

    return _cached(app_dir, "readmes", files, read)
