"""Fixtures for the runtime tests: a fresh App per test and a ChatTestClient factory.

Each test builds its own `App` and registers callbacks on it with
`with registering_on(app): @cl.on_message ...`, so tests never share handlers and the
default app stays untouched. Configs are built in code (never read from the working
directory or the environment), so a stray `nbchat.yaml` or `NBCHAT_*` cannot leak in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nbchat.app import App
from nbchat.config import Config, FeaturesConfig, RuntimeConfig, UploadConfig
from nbchat.testing import ChatTestClient


def build_config(tmp_path: Path | None = None, *, upload: UploadConfig | None = None,
                edit_message: bool = True, **runtime: Any) -> Config:
    """A Config with `runtime` overrides (debug=True, replay_buffer=8, …)."""
    features = FeaturesConfig(spontaneous_file_upload=upload or UploadConfig(),
                              edit_message=edit_message)
    return Config(runtime=RuntimeConfig(**runtime), features=features,
                  app_dir=tmp_path or Path.cwd())


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    """`make_config(debug=True)`: a Config for this test (see build_config)."""

    def factory(**kwargs: Any) -> Config:
        return build_config(tmp_path, **kwargs)

    return factory


@pytest.fixture
def app() -> App:
    return App("test")


@pytest.fixture
def connect(app: App, tmp_path: Path) -> Callable[..., ChatTestClient]:
    """`async with connect(debug=True) as client:` — a client of this test's app."""

    def factory(target: App | None = None, *, config: Config | None = None,
                upload: UploadConfig | None = None, edit_message: bool = True,
                timeout: float | None = 10.0, chat_profile: str | None = None,
                **runtime: Any) -> ChatTestClient:
        cfg = config or build_config(tmp_path, upload=upload, edit_message=edit_message,
                                    **runtime)
        return ChatTestClient(target or app, config=cfg, timeout=timeout,
                              chat_profile=chat_profile)

    return factory


def events_of(client: ChatTestClient, kind: str) -> list[dict[str, Any]]:
    return [e for e in client.events if e["type"] == kind]


@pytest.fixture
def of_type() -> Callable[[ChatTestClient, str], list[dict[str, Any]]]:
    return events_of
