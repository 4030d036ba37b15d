"""`chainlit.config` served by nbchat: `config` with the attribute shape Chainlit apps read.

    from chainlit.config import config
    config.ui.name, config.project.session_timeout, config.features.spontaneous_file_upload

Built from the nbchat Config of the loaded app (or of the current folder), read only:
settings come from nbchat.yaml (or .chainlit/config.toml), not from assignments.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from nbchat.config import Config, load

_current: Config | None = None


class ReadOnlySettings:
    """Attribute access to a settings section; assigning raises (nbchat reads config once)."""

    def __init__(self, where: str, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_where", where)
        object.__setattr__(self, "_values", {
            k: ReadOnlySettings(f"{where}.{k}", v) if isinstance(v, dict) else v
            for k, v in values.items()})

    def __getattr__(self, name: str) -> Any:
        values: dict[str, Any] = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        where = object.__getattribute__(self, "_where")
        raise AttributeError(f"{where} has no {name!r} in nbchat; see docs/chainlit.md "
                             "(Chainlit's config.toml keys and their nbchat equivalents)")

    def __setattr__(self, name: str, value: Any) -> None:
        where = object.__getattribute__(self, "_where")
        raise AttributeError(f"{where}.{name} is read only in nbchat: set it in nbchat.yaml "
                             "(or .chainlit/config.toml) before the app starts")

    def __repr__(self) -> str:
        where, values = (object.__getattribute__(self, n) for n in ("_where", "_values"))
        return f"{where}({values!r})"


def use(config: Config) -> None:
    """Serve this Config as `chainlit.config.config` (the loader calls it per app)."""
    global _current
    _current = config


def view(config: Config) -> ReadOnlySettings:
    upload = config.features.spontaneous_file_upload
    ui = dataclasses.asdict(config.ui)
    return ReadOnlySettings("config", {
        "root": str(config.app_dir),
        "project": {"name": config.project.name, "session_timeout": config.project.session_timeout,
                    "user_env": []},
        "ui": ui,
        "features": {
            "spontaneous_file_upload": {**dataclasses.asdict(upload),
                                        "accept": list(upload.accept)},
            "unsafe_allow_html": config.ui.unsafe_allow_html,
            "edit_message": config.features.edit_message,
            "auto_tag_thread": config.features.auto_tag_thread,
            "latex": True,
        },
        "run": {"debug": config.runtime.debug},
    })


def __getattr__(name: str) -> Any:
    if name == "config":
        return view(_current if _current is not None else load(Path.cwd()))
    raise AttributeError(f"chainlit.config has no {name!r} in nbchat (it offers `config`); "
                         "see docs/chainlit.md")
