"""A Chainlit app's settings, `.chainlit/config.toml` and `chainlit.md`, as nbchat config.

nbchat reads them when the app folder has no nbchat.yaml (config.load), and
`nbchat convert-chainlit-config` writes them out as nbchat.yaml. A key with an nbchat
equivalent is mapped (TOML_KEYS, the table in docs/chainlit.md); every other key is
listed once in the log, not refused: the app runs, without that setting.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

import yaml

from nbchat.errors import ConfigError

log = logging.getLogger("nbchat")
TOML_FILE = Path(".chainlit") / "config.toml"
README_FILE = "chainlit.md"

# Chainlit key (section.key as written in config.toml) -> nbchat key path.
TOML_KEYS: dict[str, tuple[str, ...]] = {
    "project.session_timeout": ("project", "session_timeout"),
    "features.edit_message": ("features", "edit_message"),
    "features.auto_tag_thread": ("features", "auto_tag_thread"),
    "features.unsafe_allow_html": ("ui", "unsafe_allow_html"),
    "features.spontaneous_file_upload.enabled":
        ("features", "spontaneous_file_upload", "enabled"),
    "features.spontaneous_file_upload.accept":
        ("features", "spontaneous_file_upload", "accept"),
    "features.spontaneous_file_upload.max_files":
        ("features", "spontaneous_file_upload", "max_files"),
    "features.spontaneous_file_upload.max_size_mb":
        ("features", "spontaneous_file_upload", "max_size_mb"),
    "UI.name": ("ui", "name"),
    "UI.description": ("ui", "description"),
    "UI.cot": ("ui", "cot"),
    "UI.default_collapse_content": ("ui", "default_collapse_content"),
    "UI.custom_css": ("ui", "custom_css"),
    "UI.custom_js": ("ui", "custom_js"),
    "UI.default_theme": ("ui", "theme", "default"),
    "UI.header_links": ("ui", "header_links"),
}
# Keys that are not settings (or whose behaviour nbchat always has): never reported.
QUIET_KEYS = frozenset({"meta.generated_by", "features.latex"})
_reported: set[Path] = set()


def has_chainlit_config(app_dir: Path) -> bool:
    return (app_dir / TOML_FILE).is_file() or (app_dir / README_FILE).is_file()


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not name.endswith(".accept"):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _convert(key: str, value: Any) -> Any:
    if key.endswith(".accept") and isinstance(value, dict):
        return list(value)  # Chainlit's {"mime/type": [".ext", …]} form: the types
    if key == "UI.header_links" and isinstance(value, list):
        # Chainlit's [[UI.header_links]] also has display_name and target: nbchat shows
        # the name and opens links in a new tab.
        return [{k: v for k, v in link.items() if k in ("name", "url", "icon_url")}
                if isinstance(link, dict) else link for link in value]
    return value


def map_keys(flat: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(nbchat config tree, keys without an equivalent) of Chainlit keys written as in
    config.toml (`UI.name`, `features.edit_message`, …)."""
    tree: dict[str, Any] = {}
    unmapped: list[str] = []
    for key, value in flat.items():
        target = TOML_KEYS.get(key)
        if key == "UI.hide_cot":  # Chainlit 1.x spelling of cot = "hidden"
            target, value = ("ui", "cot"), "hidden" if value else "full"
        if target is None:
            if key not in QUIET_KEYS:
                unmapped.append(key)
            continue
        node = tree
        for part in target[:-1]:
            node = node.setdefault(part, {})
        node[target[-1]] = _convert(key, value)
    return tree, unmapped


def read(app_dir: Path) -> tuple[dict[str, Any], list[str]]:
    """(nbchat config tree, Chainlit keys with no nbchat equivalent) of an app folder."""
    tree: dict[str, Any] = {}
    unmapped: list[str] = []
    path = app_dir / TOML_FILE
    if path.is_file():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        tree, unmapped = map_keys(_flatten(raw))
    readme = app_dir / README_FILE
    if readme.is_file():
        tree.setdefault("ui", {})["readme"] = readme.read_text(encoding="utf-8")
    return tree, unmapped


def load_tree(app_dir: Path) -> dict[str, Any]:
    """The tree config.load uses; logs the keys without an equivalent once per folder."""
    tree, unmapped = read(app_dir)
    if unmapped and app_dir.resolve() not in _reported:
        _reported.add(app_dir.resolve())
        log.warning("nbchat: read %s; these Chainlit keys have no nbchat equivalent and are "
                    "not used: %s (see docs/chainlit.md)", app_dir / TOML_FILE,
                    ", ".join(unmapped))
    return tree


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (the readme) as `|` blocks, the way a person would write them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def to_yaml(tree: dict[str, Any], unmapped: list[str]) -> str:
    head = "# Converted from .chainlit/config.toml and chainlit.md by nbchat.\n"
    if unmapped:
        head += "# Chainlit keys with no nbchat equivalent (not carried over):\n"
        head += "".join(f"#   {key}\n" for key in unmapped)
    return head + yaml.dump(tree, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True)
