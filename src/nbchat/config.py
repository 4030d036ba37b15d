"""Configuration: `nbchat.yaml` in the app folder, overridden by `NBCHAT_*` variables.

`load(app_dir, environ)` reads both once and returns a frozen `Config` that is passed to
whoever needs it; nothing here runs at import. Every key, its type and its default live
in the dataclasses below, which are also the documentation source for docs/config.md.
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
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from nbchat.errors import ConfigError

log = logging.getLogger("nbchat")

CONFIG_FILE = "nbchat.yaml"


@dataclass(frozen=True)
class ProjectConfig:
    name: str = "nbchat"
    # Seconds a disconnected session is kept for a reconnecting client before it is closed.
    session_timeout: int = 3600
    # Environment variables each user must give (an API key of their own): asked for by
    # the chat, available as cl.user_session.get("env"), never stored.
    user_env: tuple[str, ...] = ()


@dataclass(frozen=True)
class UIConfig:
    name: str = "Assistant"
    description: str = ""
    # Chain of thought: every step (full), only tool and llm steps (tool_call), or none.
    cot: Literal["full", "tool_call", "hidden"] = "full"
    # Raw HTML in messages is sanitized away unless this is on (security invariant 4).
    unsafe_allow_html: bool = False
    default_collapse_content: bool = True
    # Markdown the UI offers as the app's readme (from chainlit.md when migrating).
    readme: str = ""
    # The message posted when the user presses Stop (Chainlit's text); "" posts none.
    stop_message: str = "Task manually stopped."


@dataclass(frozen=True)
class UploadConfig:
    # Chainlit's defaults: files may be attached to any message.
    enabled: bool = True
    accept: tuple[str, ...] = ("*/*",)
    max_files: int = 20
    max_size_mb: int = 500


@dataclass(frozen=True)
class FeaturesConfig:
    spontaneous_file_upload: UploadConfig = field(default_factory=UploadConfig)
    edit_message: bool = True
    # Tag a stored chat with its chat profile (Chainlit's features.auto_tag_thread).
    auto_tag_thread: bool = True


@dataclass(frozen=True)
class RuntimeConfig:
    # Token coalescing: flush at most this long after the first pending token…
    stream_interval_ms: int = 30
    # …or as soon as this many characters are pending.
    stream_max_chars: int = 65536
    # Events kept per session for replay to a reconnecting client.
    replay_buffer: int = 4096
    # Largest client event accepted, in bytes.
    max_event_bytes: int = 1_048_576
    # Show tracebacks of failing callbacks in the chat (otherwise only in the log).
    debug: bool = False
    # `import chainlit` served by nbchat: when chainlit is not installed (auto), always, never.
    chainlit_alias: Literal["auto", "on", "off"] = "auto"
    # Seconds a callback may run (asks included) before it is stopped; None: no limit.
    callback_timeout: int | None = None
    # Log a warning naming the running callback when the event loop is blocked this long
    # (ms); None: no watchdog.
    stall_warning_ms: int | None = 1000


@dataclass(frozen=True)
class DataConfig:
    enabled: bool = True
    # None: SQLite at <app dir>/.nbchat/nbchat.db; or sqlite:///path, or postgresql://…
    url: str | None = None
    # None: element bytes in <app dir>/.nbchat/files/; or a bucket: s3://…, gs://…,
    # azure-blob://…, abfs://… (docs/persistence.md, "Element bytes in a bucket")
    storage_url: str | None = None
    # A streaming reply's text is saved at most this often (ms); its end, at once.
    checkpoint_ms: int = 1000


@dataclass(frozen=True)
class ServerConfig:
    """`nbchat serve`'s network limits (docs/serving.md, "Network safety")."""

    # Host names an app without login answers besides localhost, IP addresses and the
    # address it listens on (a DNS-rebinding guard); "*" answers any.
    allowed_hosts: tuple[str, ...] = ()
    # Addresses or CIDR networks of reverse proxies whose X-Forwarded-For/-Proto are
    # believed; from anyone else those headers are ignored.
    trusted_proxies: tuple[str, ...] = ()
    # Largest request body in bytes; the upload routes raise it to their own limits.
    max_body_bytes: int = 2_097_152
    # ms a connection may take to send a request's headers, or stay idle between requests.
    idle_timeout_ms: int = 60_000
    # ms a request body may take; an upload's body may instead pause at most this long.
    body_timeout_ms: int = 60_000
    # Live chat sessions one user may hold (0: no cap); see docs/serving.md.
    max_sessions_per_user: int = 20
    # Redis (redis://host:6379/0) for the state several processes share: sign-outs, the
    # sign-in limiter, OAuth states, the session directory and the session bus. None: one
    # process keeps it in memory (docs/deploying.md).
    redis_url: str | None = None
    # Prefix of every Redis key and channel, so apps (or test runs) can share one Redis.
    redis_prefix: str = "nbchat"


@dataclass(frozen=True)
class Config:
    project: ProjectConfig = field(default_factory=ProjectConfig)
    ui: UIConfig = field(default_factory=UIConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    data: DataConfig = field(default_factory=DataConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    app_dir: Path = field(default_factory=Path.cwd)

    def to_client(self) -> dict[str, Any]:
        """The part of the configuration the browser needs (sent in `welcome`)."""
        upload = self.features.spontaneous_file_upload
        return {
            "project": {"user_env": list(self.project.user_env)},
            "ui": dataclasses.asdict(self.ui),
            "features": {
                "spontaneous_file_upload": {**dataclasses.asdict(upload),
                                            "accept": list(upload.accept)},
                "edit_message": self.features.edit_message,
            },
        }


ENV_ALIASES = {"NBCHAT_DATABASE_URL": ("data", "url"),
               "NBCHAT_STORAGE_URL": ("data", "storage_url"), "NBCHAT_DEBUG": ("runtime", "debug"),
               "NBCHAT_REDIS_URL": ("server", "redis_url")}
# Variables read by other parts of nbchat (served mode, the test suite), not config keys.
ENV_OTHER = frozenset({"NBCHAT_AUTH_SECRET", "NBCHAT_PUBLIC_URL", "NBCHAT_TEST_PG"})


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
        if origin is tuple:
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
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)
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
    kwargs: dict[str, Any] = {}
    for name, value in raw.items():
        key = f"{path}.{name}" if path else name
        tp = hints[name]
        if dataclasses.is_dataclass(tp):
            kwargs[name] = _build(typing.cast(type, tp), value, key)
        else:
            kwargs[name] = _coerce(value, tp, key, False)
    return cls(**kwargs)


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
    return dataclasses.replace(config, app_dir=app_dir)


def defaults_table() -> list[tuple[str, str, str, str]]:
    """(key, env name, type, default) for every key: the source of docs/config.md."""
    rows: list[tuple[str, str, str, str]] = []
    for env, path in _env_names(Config, "NBCHAT", ()).items():
        default: Any = Config()
        for part in path:
            default = getattr(default, part)
        tp = _leaf_type(path)
        name = tp.__name__ if isinstance(tp, type) else str(tp).replace("typing.", "")
        rows.append((".".join(path), env, name, repr(default)))
    return rows
