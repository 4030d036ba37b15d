"""`nbchat create-secret` prints a secret that check_auth accepts."""

from __future__ import annotations

import pytest

from nbchat.app import App
from nbchat.cli import main
from nbchat.server.auth.cookies import check_auth


def test_create_secret_prints_a_usable_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["create-secret"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["create-secret"]) == 0
    second = capsys.readouterr().out.strip()
    assert first != second
    app = App("x")
    app.register("password_auth_callback", lambda u, p: None)
    assert check_auth(app, {"NBCHAT_AUTH_SECRET": first}) == first
