"""Configuration: `nbchat.yaml` in the app folder, overridden by `NBCHAT_*` variables.

`load(app_dir, environ)` reads both once and returns a frozen `Config` that is passed to
whoever needs it; nothing here runs at import. Every key, its type and its default live
in the dataclasses of sections.py, which are also the documentation source for docs/config.md.
An unknown key or a wrong type raises ConfigError naming the key. An unknown `NBCHAT_*`
variable is only warned about (the environment is shared with other tools), unless it is
close to a known name: a typo, an error with the suggestion.

Environment names: `NBCHAT_<SECTION>_<KEY>` in upper case, nested keys joined with `_`
(e.g. `NBCHAT_UI_COT=hidden`, `NBCHAT_FEATURES_SPONTANEOUS_FILE_UPLOAD_MAX_FILES=3`), plus
the short aliases in `ENV_ALIASES`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from nbchat.config.sections import (
    Config,
    DataConfig,
    FeaturesConfig,
    HeaderLink,
    McpConfig,
    McpServerConfig,
    McpTransport,
    OtelConfig,
    ProjectConfig,
    RuntimeConfig,
    ServerConfig,
    ThemeColors,
    ThemeConfig,
    UIConfig,
    UploadConfig,
)
from nbchat.errors import ConfigError

log = logging.getLogger("nbchat")

__all__ = [
    "CONFIG_FILE",
    "ENV_ALIASES",
    "ENV_OTHER",
    "Config",
    "DataConfig",
    "FeaturesConfig",
    "HeaderLink",
    "McpConfig",
    "McpServerConfig",
    "McpTransport",
    "OtelConfig",
    "ProjectConfig",
    "RuntimeConfig",
    "ServerConfig",
    "ThemeColors",
    "ThemeConfig",
    "UIConfig",
    "UploadConfig",
    "defaults_table",
    "load",
    "public_file",
    "with_overrides",
]

CONFIG_FILE = "nbchat.yaml"


ENV_ALIASES = {"NBCHAT_DATABASE_URL": ("data", "url"),
               "NBCHAT_STORAGE_URL": ("data", "storage_url"), "NBCHAT_DEBUG": ("runtime", "debug"),
               "NBCHAT_REDIS_URL": ("server", "redis_url")}
# Variables read by other parts of nbchat (served mode, the test suite), not config keys.
ENV_OTHER = frozenset({"NBCHAT_AUTH_SECRET", "NBCHAT_PUBLIC_URL", "NBCHAT_TEST_PG",
                       "NBCHAT_AXE_CORE"})


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _env_names(cls: type, prefix: str, path: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    names: dict[str, tuple[str, ...]] = {}
    for f in dataclasses.fields(cls):
        tp = _hints(cls)[f.name]
        key = (*path, f.name)
        env = f"{prefix}_{f.name.upper()}"
        if dataclasses.is_dataclass(tp):
            names.update(_env_names(typing.cast(type, tp), env, key))
        elif f.name != "app_dir":
            names[env] = key
    return names


ENV_NAMES: dict[str, tuple[str, ...]] = {**_env_names(Config, "NBCHAT", ()), **ENV_ALIASES}


def _coerce(value: Any, tp: Any, key: str, from_env: bool) -> Any:
    """Check (and for env strings, parse) one value against its declared type."""
    origin = typing.get_origin(tp)
    if from_env and isinstance(value, str) and tp is not str:
        if origin is tuple and dataclasses.is_dataclass(typing.get_args(tp)[0]):
            try:
                value = json.loads(value)  # NBCHAT_UI_HEADER_LINKS='[{"name": …, "url": …}]'
            except ValueError:
                raise ConfigError(f"{key}: expected a JSON list of tables") from None
        elif origin is tuple:
            value = [v.strip() for v in value.split(",") if v.strip()]
        elif tp is bool or tp is int or (origin in (types.UnionType, typing.Union)):
            try:
                value = json.loads(value.lower() if tp is bool else value)
            except ValueError:
                if tp is not bool and tp is not int:
                    pass  # an optional string: keep it
                else:
                    raise ConfigError(
                        f"{key}: {value!r} is not a valid {tp.__name__}"
                    ) from None
    if origin in (types.UnionType, typing.Union):
        for option in typing.get_args(tp):
            try:
                return _coerce(value, option, key, False)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: expected {tp}, got {value!r}")
    if origin is Literal:
        if value not in typing.get_args(tp):
            choices = " | ".join(map(str, typing.get_args(tp)))
            raise ConfigError(f"{key}: expected one of {choices}, got {value!r}")
        return value
    if origin is tuple:
        item = typing.get_args(tp)[0]
        if dataclasses.is_dataclass(item):  # a list of tables, e.g. ui.header_links
            if not isinstance(value, list | tuple):
                raise ConfigError(f"{key}: expected a list of tables, got {value!r}")
            return tuple(v if isinstance(v, typing.cast(type, item)) else
                         _build(typing.cast(type, item), v, f"{key}[{i}]")
                         for i, v in enumerate(value))
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
        item = typing.get_args(tp)[0]
        if typing.get_origin(item) is Literal:
            for v in value:
                _coerce(v, item, key, False)
        return tuple(value)
    if origin is dict:
        return _mapping(value, typing.get_args(tp)[1], key, from_env)
    if tp is type(None):
        if value is not None:
            raise ConfigError(f"{key}: expected null, got {value!r}")
        return None
    if tp is bool and not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if tp is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if tp is str and not isinstance(value, str):
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    if tp is int and value < 0:
        raise ConfigError(f"{key}: expected a non-negative integer, got {value!r}")
    return value


def _mapping(value: Any, item: Any, key: str, from_env: bool) -> dict[str, Any]:
    """A `dict[str, X]` key: a YAML mapping (a JSON object in an NBCHAT_* variable) whose
    values are X, a string or a config section."""
    if from_env and isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConfigError(f"{key}: expected a JSON object, got {value!r}") from None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigError(f"{key}: expected a mapping with string keys, got {value!r}")
    if dataclasses.is_dataclass(item):
        return {k: _build(typing.cast(type, item), v, f"{key}.{k}") for k, v in value.items()}
    return {k: _coerce(v, item, f"{key}.{k}", False) for k, v in value.items()}


def _build(cls: type, raw: Mapping[str, Any], path: str) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path or 'nbchat.yaml'}: expected a mapping, got {raw!r}")
    hints = _hints(cls)
    fields = {f.name for f in dataclasses.fields(cls) if f.name != "app_dir"}
    for key in raw:
        if key not in fields:
            where = f"{path}.{key}" if path else key
            known = ", ".join(sorted(fields))
            raise ConfigError(f"unknown config key {where!r}; known keys here: {known}")
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in raw
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{path or 'nbchat.yaml'}: missing {', '.join(missing)}")
    kwargs: dict[str, Any] = {}
    for name, value in raw.items():
        key = f"{path}.{name}" if path else name
        tp = hints[name]
        if dataclasses.is_dataclass(tp):
            kwargs[name] = _build(typing.cast(type, tp), value, key)
        else:
            kwargs[name] = _coerce(value, tp, key, False)
    return cls(**kwargs)


# What a theme value may hold: CSS colours and lengths (no `;`, `{`, `:`, quotes or url()).
_CSS_VALUE = re.compile(r"[#\w\s(),.%/+-]{0,100}")
_FONT_VALUE = re.compile(r"[\w\s,\"'.-]{0,200}")
_PUBLIC_FILE = re.compile(r"[\w.-]+(/[\w.-]+)*")


def public_file(value: str) -> str:
    """A path inside the app's public/ folder ("css/app.css"), from "css/app.css",
    "public/css/app.css" or Chainlit's "/public/css/app.css"; "" stays "". ConfigError for
    anything else (a URL, `..`, a hidden file): the page loads only the app's own files."""
    if not value:
        return ""
    path = value.removeprefix("/").removeprefix("public/")
    if not _PUBLIC_FILE.fullmatch(path) or any(p.startswith(".") for p in path.split("/")):
        raise ConfigError(f"{value!r} is not a file in the app's public/ folder")
    return path


def _check_ui(ui: UIConfig) -> None:
    """Theme values are CSS values, files are in public/, links are http(s) or paths."""
    theme = ui.theme
    for scheme in ("light", "dark"):
        for f in dataclasses.fields(ThemeColors):
            value = getattr(getattr(theme, scheme), f.name)
            if not _CSS_VALUE.fullmatch(value):
                raise ConfigError(f"ui.theme.{scheme}.{f.name}: {value!r} is not a CSS colour")
    if not _CSS_VALUE.fullmatch(theme.radius):
        raise ConfigError(f"ui.theme.radius: {theme.radius!r} is not a CSS length")
    for name in ("font_family", "mono_font_family"):
        if not _FONT_VALUE.fullmatch(getattr(theme, name)):
            raise ConfigError(f"ui.theme.{name}: {getattr(theme, name)!r} is not a font list")
    for name in ("custom_css", "custom_js", "logo", "logo_dark", "favicon"):
        try:
            public_file(getattr(ui, name))
        except ConfigError as exc:
            raise ConfigError(f"ui.{name}: {exc}") from None
    for i, link in enumerate(ui.header_links):
        for name in ("url", "icon_url"):
            value = getattr(link, name)
            if value and not re.fullmatch(r"(https?://|/)[^\s\"'<>]*", value):
                raise ConfigError(f"ui.header_links[{i}].{name}: {value!r} is not an "
                                  "http(s) URL or a path")


def with_overrides(config: Config, overrides: Mapping[str, Any]) -> Config:
    """`config` with some keys replaced, e.g. {"features": {"edit_message": False}} (a chat
    profile's `config_overrides`); checked like nbchat.yaml, so a typo is a ConfigError."""
    sections: dict[str, Any] = {}
    for name, values in overrides.items():
        current = getattr(config, name, None) if name != "app_dir" else None
        if (not dataclasses.is_dataclass(current) or isinstance(current, type)
                or not isinstance(values, Mapping)):
            raise ConfigError(f"config_overrides: {name!r} is not a config section")
        merged = _merged(dataclasses.asdict(current), values)
        sections[name] = _build(type(current), merged, f"config_overrides.{name}")
        if isinstance(sections[name], UIConfig):
            _check_ui(sections[name])
    return dataclasses.replace(config, **sections)


def _merged(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _set_path(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def _leaf_type(path: tuple[str, ...]) -> Any:
    cls: Any = Config
    for part in path:
        cls = _hints(cls)[part]
    return cls


# How alike (difflib ratio) an unknown name must be to a known one to count as its typo.
TYPO_SIMILARITY = 0.85


def _env_key(env: str) -> tuple[str, ...] | None:
    """The key an NBCHAT_* variable sets; None, with a warning, for an unknown one."""
    key_path = ENV_NAMES.get(env)
    if key_path is not None:
        return key_path
    close = difflib.get_close_matches(env, [*ENV_NAMES, *ENV_OTHER], n=3,
                                      cutoff=TYPO_SIMILARITY)
    if close:
        raise ConfigError(f"unknown environment variable {env}; did you mean "
                          + " or ".join(close) + "? (docs/config.md lists every variable)")
    log.warning("nbchat: ignoring the environment variable %s: no config key has that name "
                "(docs/config.md lists every variable)", env)
    return None


def load(app_dir: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read `<app_dir>/nbchat.yaml` (optional) and `NBCHAT_*` variables into a Config.

    Without nbchat.yaml, a Chainlit app's `.chainlit/config.toml` and `chainlit.md` are
    read instead (nbchat.chainlit_compat.config_toml)."""
    app_dir = Path(app_dir) if app_dir is not None else Path.cwd()
    environ = os.environ if environ is None else environ
    tree: dict[str, Any] = {}
    path = app_dir / CONFIG_FILE
    if path.is_file():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        if loaded is not None:
            if not isinstance(loaded, dict):
                raise ConfigError(f"{path}: expected a mapping of sections, got {loaded!r}")
            tree = loaded
    else:
        from nbchat.chainlit_compat import config_toml

        if config_toml.has_chainlit_config(app_dir):
            tree = config_toml.load_tree(app_dir)
    for env, value in environ.items():
        if not env.startswith("NBCHAT_") or env in ENV_OTHER:
            continue
        key_path = _env_key(env)
        if key_path is None:
            continue
        _set_path(tree, key_path, _coerce(value, _leaf_type(key_path), env, True))
    config: Config = _build(Config, tree, "")
    _check_ui(config.ui)
    return dataclasses.replace(config, app_dir=app_dir)


def defaults_table() -> list[tuple[str, str, str, str]]:
    """(key, env name, type, default) for every key: the source of docs/config.md."""
    rows: list[tuple[str, str, str, str]] = []
    for env, path in _env_names(Config, "NBCHAT", ()).items():
        default: Any = Config()
        for part in path:
            default = getattr(default, part)
        tp = _leaf_type(path)
        name = (tp.__name__ if isinstance(tp, type)
                else str(tp).replace("typing.", "").replace("nbchat.config.", ""))
        rows.append((".".join(path), env, name, repr(default)))
    return rows
