"""nbchat.yaml and NBCHAT_* variables: loading, precedence, and errors that name the key."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import pytest

from nbchat.config import ENV_NAMES, Config, RuntimeConfig, defaults_table, load
from nbchat.errors import ConfigError


def _yaml(tmp_path: Path, text: str) -> Path:
    (tmp_path / "nbchat.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load(tmp_path, environ={})
    assert config == dataclasses.replace(Config(), app_dir=tmp_path)
    assert config.runtime.stream_interval_ms <= 50
    assert config.runtime.debug is False


def test_yaml_is_read(tmp_path: Path) -> None:
    _yaml(tmp_path, """
ui:
  name: Helper
  cot: hidden
runtime:
  debug: true
  replay_buffer: 16
features:
  edit_message: false
  spontaneous_file_upload:
    enabled: true
    accept: [text/plain, .csv]
    max_files: 3
data:
  url: null
""")
    config = load(tmp_path, environ={})
    assert config.ui.name == "Helper"
    assert config.ui.cot == "hidden"
    assert config.runtime.debug is True
    assert config.runtime.replay_buffer == 16
    assert config.features.edit_message is False
    upload = config.features.spontaneous_file_upload
    assert (upload.enabled, upload.accept, upload.max_files) == (True, ("text/plain", ".csv"), 3)
    assert config.data.url is None
    # Untouched keys keep their defaults.
    assert config.runtime.max_event_bytes == RuntimeConfig().max_event_bytes


def test_empty_yaml_gives_defaults(tmp_path: Path) -> None:
    _yaml(tmp_path, "# nothing yet\n")
    assert load(tmp_path, environ={}).ui == Config().ui


def test_environment_overrides_yaml(tmp_path: Path) -> None:
    _yaml(tmp_path, "ui:\n  name: FromFile\nruntime:\n  debug: false\n")
    config = load(tmp_path, environ={
        "NBCHAT_UI_NAME": "FromEnv",
        "NBCHAT_DEBUG": "true",
        "NBCHAT_RUNTIME_REPLAY_BUFFER": "32",
        "NBCHAT_FEATURES_SPONTANEOUS_FILE_UPLOAD_ACCEPT": "image/*, .pdf",
        "NBCHAT_FEATURES_SPONTANEOUS_FILE_UPLOAD_MAX_FILES": "3",
        "NBCHAT_DATABASE_URL": "sqlite:///x.db",
        "NBCHAT_AUTH_SECRET": "not a config key, but known",
        "OTHER_VARIABLE": "ignored",
    })
    assert config.ui.name == "FromEnv"
    assert config.runtime.debug is True
    assert config.runtime.replay_buffer == 32
    assert config.features.spontaneous_file_upload.accept == ("image/*", ".pdf")
    assert config.features.spontaneous_file_upload.max_files == 3
    assert config.data.url == "sqlite:///x.db"


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load(tmp_path, environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.runtime.debug = True  # type: ignore[misc]


@pytest.mark.parametrize(("text", "key"), [
    ("colour: red\n", "'colour'"),
    ("ui:\n  nam: x\n", "'ui.nam'"),
    ("features:\n  spontaneous_file_upload:\n    max_file: 3\n",
     "'features.spontaneous_file_upload.max_file'"),
])
def test_unknown_yaml_key_is_an_error_naming_it(tmp_path: Path, text: str, key: str) -> None:
    _yaml(tmp_path, text)
    with pytest.raises(ConfigError, match=f"unknown config key {key}"):
        load(tmp_path, environ={})


@pytest.mark.parametrize(("text", "key"), [
    ("runtime:\n  debug: maybe\n", "runtime.debug"),
    ("runtime:\n  replay_buffer: lots\n", "runtime.replay_buffer"),
    ("runtime:\n  replay_buffer: true\n", "runtime.replay_buffer"),
    ("runtime:\n  replay_buffer: -1\n", "runtime.replay_buffer"),
    ("ui:\n  name: 5\n", "ui.name"),
    ("ui:\n  cot: sometimes\n", "ui.cot"),
    ("features:\n  spontaneous_file_upload:\n    accept: image/*\n",
     "features.spontaneous_file_upload.accept"),
    ("ui: hello\n", "ui"),
    ("data:\n  url: 5\n", "data.url"),
])
def test_wrong_yaml_type_is_an_error_naming_the_key(tmp_path: Path, text: str,
                                                    key: str) -> None:
    _yaml(tmp_path, text)
    with pytest.raises(ConfigError, match=f"^{key}: expected"):
        load(tmp_path, environ={})


def test_not_a_mapping_or_not_yaml(tmp_path: Path) -> None:
    _yaml(tmp_path, "- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load(tmp_path, environ={})
    _yaml(tmp_path, "ui: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load(tmp_path, environ={})


@pytest.mark.parametrize(("env", "value"), [
    ("NBCHAT_RUNTIME_DEBUG", "perhaps"),
    ("NBCHAT_RUNTIME_REPLAY_BUFFER", "many"),
    ("NBCHAT_UI_COT", "sometimes"),
])
def test_wrong_env_value_is_an_error_naming_the_variable(tmp_path: Path, env: str,
                                                         value: str) -> None:
    with pytest.raises(ConfigError, match=env):
        load(tmp_path, environ={env: value})


def test_a_typo_of_a_known_env_variable_is_an_error_naming_the_right_one(
        tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(
            "unknown environment variable NBCHAT_UI_NAM; did you mean NBCHAT_UI_NAME?")):
        load(tmp_path, environ={"NBCHAT_UI_NAM": "x"})
    with pytest.raises(ConfigError, match=re.escape("did you mean NBCHAT_RUNTIME_DEBUG?")):
        load(tmp_path, environ={"NBCHAT_RUNTIME_DEBGU": "1"})


def test_an_unknown_env_variable_is_ignored_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Another tool's NBCHAT_* variable (or a retired one) must not stop `nbchat serve`.
    with caplog.at_level(logging.WARNING, logger="nbchat"):
        config = load(tmp_path, environ={"NBCHAT_HOME": "/srv", "NBCHAT_UI_NAME": "Bot"})
    assert config.ui.name == "Bot"
    assert [r.getMessage() for r in caplog.records] == [
        "nbchat: ignoring the environment variable NBCHAT_HOME: no config key has that name "
        "(docs/config.md lists every variable)"]


def test_every_key_has_an_env_name_and_a_default() -> None:
    rows = defaults_table()
    assert {env for _, env, _, _ in rows} <= set(ENV_NAMES)
    keys = {key for key, _, _, _ in rows}
    assert {"runtime.debug", "runtime.replay_buffer", "ui.name",
            "features.spontaneous_file_upload.max_files"} <= keys
    row = next(r for r in rows if r[0] == "runtime.debug")
    assert (row[1], row[3]) == ("NBCHAT_RUNTIME_DEBUG", "False")
    assert "bool" in row[2]
