"""A Chainlit app's .chainlit/config.toml and chainlit.md carried over, and converted."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest
import yaml

from nbchat.cli import main
from nbchat.config import load
from nbchat.errors import ConfigError
from nbchat.testing import ChatTestClient

TOML = textwrap.dedent('''
    [project]
    user_env = ["OPENAI_API_KEY"]
    session_timeout = 120
    enable_telemetry = false

    [features]
    unsafe_allow_html = true
    latex = true
    edit_message = false
    auto_tag_thread = false

    [features.spontaneous_file_upload]
    enabled = true
    accept = ["application/pdf", "text/*"]
    max_files = 3
    max_size_mb = 7

    [UI]
    name = "Invoice helper"
    description = "Answers questions about invoices"
    cot = "tool_call"
    default_collapse_content = false
    custom_css = "/public/style.css"
    custom_js = "/public/app.js"
    default_theme = "light"
    github = "https://github.com/example/invoices"

    [[UI.header_links]]
    name = "Docs"
    display_name = "Documentation"
    icon_url = "https://example.com/icon.png"
    url = "https://example.com/docs"

    [meta]
    generated_by = "2.0.0"
''')
README = "# Invoice helper\n\nAsk about any invoice.\n"
APP = "import chainlit as cl\n\n@cl.on_chat_start\nasync def start():\n    " \
      "await cl.Message(content='hi').send()\n"


@pytest.fixture
def chainlit_dir(tmp_path: Path) -> Path:
    (tmp_path / ".chainlit").mkdir()
    (tmp_path / ".chainlit" / "config.toml").write_text(TOML, encoding="utf-8")
    (tmp_path / "chainlit.md").write_text(README, encoding="utf-8")
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    return tmp_path


def _assert_carried_over(config_ui: dict[str, object], features: dict[str, object]) -> None:
    assert config_ui["name"] == "Invoice helper"
    assert config_ui["description"] == "Answers questions about invoices"
    assert config_ui["cot"] == "tool_call"
    assert config_ui["default_collapse_content"] is False
    assert config_ui["unsafe_allow_html"] is True
    assert config_ui["readme"] == README
    # the look (issue 16): files in public/, the default scheme, header links
    assert config_ui["custom_css"] == "/public/style.css"
    assert config_ui["custom_js"] == "/public/app.js"
    assert config_ui["theme"]["default"] == "light"  # type: ignore[index]
    assert config_ui["header_links"] == [{"name": "Docs", "url": "https://example.com/docs",
                                          "icon_url": "https://example.com/icon.png"}]
    assert features["edit_message"] is False
    assert features["spontaneous_file_upload"] == {
        "enabled": True, "accept": ["application/pdf", "text/*"], "max_files": 3,
        "max_size_mb": 7}


async def test_settings_reach_the_welcome_event(chainlit_dir: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="nbchat")
    async with ChatTestClient(chainlit_dir / "app.py") as client:
        welcome = next(e for e in client.events if e["type"] == "welcome")
        _assert_carried_over(welcome["config"]["ui"], welcome["config"]["features"])
        assert client.session.config.project.session_timeout == 120
        assert client.session.config.features.auto_tag_thread is False
    unmapped = [r.getMessage() for r in caplog.records if "no nbchat equivalent" in r.getMessage()]
    assert len(unmapped) == 1
    for key in ("project.user_env", "project.enable_telemetry", "UI.github"):
        assert key in unmapped[0]
    for quiet in ("features.latex", "meta.generated_by", "UI.name"):
        assert quiet not in unmapped[0]
    load(chainlit_dir)
    again = [r for r in caplog.records if "no nbchat equivalent" in r.getMessage()]
    assert len(again) == 1  # once per folder, not per load


async def test_chainlit_config_shows_the_carried_over_settings(chainlit_dir: Path) -> None:
    (chainlit_dir / "app.py").write_text(textwrap.dedent('''
        import chainlit as cl
        from chainlit.config import config

        @cl.on_chat_start
        async def start():
            upload = config.features.spontaneous_file_upload
            await cl.Message(content=f"{config.ui.name} {upload.max_files} "
                                     f"{config.project.session_timeout}").send()
    '''), encoding="utf-8")
    async with ChatTestClient(chainlit_dir / "app.py") as client:
        assert client.messages[-1]["output"] == "Invoice helper 3 120"


def test_nbchat_yaml_wins_over_the_chainlit_files(chainlit_dir: Path) -> None:
    (chainlit_dir / "nbchat.yaml").write_text("ui:\n  name: From yaml\n", encoding="utf-8")
    config = load(chainlit_dir, environ={})
    assert config.ui.name == "From yaml"
    assert config.ui.readme == ""


def test_environment_overrides_the_chainlit_files(chainlit_dir: Path) -> None:
    assert load(chainlit_dir, environ={"NBCHAT_UI_NAME": "Env"}).ui.name == "Env"


def test_accept_as_a_table_of_types_keeps_the_types(tmp_path: Path) -> None:
    (tmp_path / ".chainlit").mkdir()
    (tmp_path / ".chainlit" / "config.toml").write_text(textwrap.dedent('''
        [features.spontaneous_file_upload]
        enabled = true
        accept = { "image/png" = [".png"], "application/pdf" = [".pdf"] }
        [UI]
        hide_cot = true
    '''), encoding="utf-8")
    config = load(tmp_path, environ={})
    assert config.features.spontaneous_file_upload.accept == ("image/png", "application/pdf")
    assert config.ui.cot == "hidden"


def test_a_wrong_value_names_the_key(tmp_path: Path) -> None:
    (tmp_path / ".chainlit").mkdir()
    (tmp_path / ".chainlit" / "config.toml").write_text('[UI]\ncot = "some"\n')
    with pytest.raises(ConfigError, match=r"ui\.cot: expected one of"):
        load(tmp_path, environ={})
    (tmp_path / ".chainlit" / "config.toml").write_text("[UI\nname = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(tmp_path, environ={})


def test_convert_writes_an_nbchat_yaml_that_loads_to_the_same_config(
        chainlit_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from_chainlit = load(chainlit_dir, environ={})
    assert main(["convert-chainlit-config", str(chainlit_dir)]) == 0
    written = chainlit_dir / "nbchat.yaml"
    assert f"wrote {written}" in capsys.readouterr().out
    text = written.read_text(encoding="utf-8")
    assert "#   UI.github" in text  # what was not carried over is listed in the file
    assert yaml.safe_load(text)["ui"]["readme"] == README
    (chainlit_dir / ".chainlit" / "config.toml").unlink()
    (chainlit_dir / "chainlit.md").unlink()
    assert load(chainlit_dir, environ={}) == from_chainlit


def test_convert_refuses_to_replace_a_file_or_to_convert_nothing(
        chainlit_dir: Path, tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    (chainlit_dir / "nbchat.yaml").write_text("ui:\n  name: Mine\n", encoding="utf-8")
    assert main(["convert-chainlit-config", str(chainlit_dir)]) == 1
    assert "exists; pass --force" in capsys.readouterr().err
    assert (chainlit_dir / "nbchat.yaml").read_text() == "ui:\n  name: Mine\n"
    assert main(["convert-chainlit-config", str(chainlit_dir), "--force"]) == 0
    assert load(chainlit_dir, environ={}).ui.name == "Invoice helper"
    empty = tmp_path_factory.mktemp("empty")
    assert main(["convert-chainlit-config", str(empty)]) == 1
    assert "nothing to convert" in capsys.readouterr().err
    assert not (empty / "nbchat.yaml").exists()


def test_convert_keeps_the_old_file_when_the_result_would_not_load(
        chainlit_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (chainlit_dir / ".chainlit" / "config.toml").write_text('[UI]\ncot = "some"\n')
    assert main(["convert-chainlit-config", str(chainlit_dir)]) == 1
    assert "ui.cot" in capsys.readouterr().err
    assert not (chainlit_dir / "nbchat.yaml").exists()
