"""`chainlit.config` served by nbchat: `config` with the attribute shape Chainlit apps read.

    from chainlit.config import config
    config.ui.name, config.project.session_timeout, config.features.spontaneous_file_upload

Built from the nbchat Config of the loaded app (or of the current folder), read only:
settings come from nbchat.yaml (or .chainlit/config.toml), not from assignments.

Also the settings types a chat profile's `config_overrides` is written with:
`ChainlitConfigOverrides(ui=UISettings(name="Pro"), features=FeaturesSettings(...))` is
the nbchat override dict of the keys given, mapped as config.toml's keys are.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from nbchat.chainlit_compat.config_toml import map_keys
from nbchat.config import Config, load

log = logging.getLogger("nbchat")

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


class SettingsRecord:
    """A Chainlit settings section as an app builds it: only the keywords given count
    (Chainlit's pydantic models track them the same way)."""

    def __init__(self, **given: Any) -> None:
        self.given = given

    def __getattr__(self, name: str) -> Any:
        given = self.__dict__.get("given", {})
        if name in given:
            return given[name]
        raise AttributeError(f"{type(self).__name__} was not given {name!r}")

    def flat(self, prefix: str) -> dict[str, Any]:
        """The given keys as config.toml spells them (`UI.name`, `features.mcp.enabled`)."""
        out: dict[str, Any] = {}
        for key, value in self.given.items():
            if isinstance(value, SettingsRecord):
                out.update(value.flat(f"{prefix}.{key}"))
            elif isinstance(value, dict) and not key.endswith("accept"):
                out.update({f"{prefix}.{key}.{k}": v for k, v in value.items()})
            else:
                out[f"{prefix}.{key}"] = value
        return out


class UISettings(SettingsRecord):
    """Chainlit's `[UI]` section."""


class FeaturesSettings(SettingsRecord):
    """Chainlit's `[features]` section."""


class ProjectSettings(SettingsRecord):
    """Chainlit's `[project]` section."""


class SpontaneousFileUploadFeature(SettingsRecord):
    """Chainlit's `[features.spontaneous_file_upload]`."""


class AudioFeature(SettingsRecord):
    """Chainlit's `[features.audio]` (no nbchat equivalent yet: logged)."""


class McpFeature(SettingsRecord):
    """Chainlit's `[features.mcp]` (no nbchat equivalent yet: logged)."""


class ChainlitConfigOverrides(dict[str, Any]):
    """What a chat profile changes, as nbchat's override dict (`ChatProfile(config_overrides=
    ...)` takes either). Keys without an nbchat equivalent are logged, not refused."""

    def __init__(self, ui: UISettings | None = None, features: FeaturesSettings | None = None,
                 project: ProjectSettings | None = None) -> None:
        flat: dict[str, Any] = {}
        for prefix, section in (("UI", ui), ("features", features), ("project", project)):
            if section is not None:
                flat.update(section.flat(prefix))
        tree, unmapped = map_keys(flat)
        if unmapped:
            log.warning("nbchat: these Chainlit config_overrides keys have no nbchat "
                        "equivalent and are not used: %s (see docs/chainlit.md)",
                        ", ".join(unmapped))
        super().__init__(tree)


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
    raise AttributeError(f"chainlit.config has no {name!r} in nbchat (it offers `config` "
                         "and the settings types of config_overrides); see docs/chainlit.md")
