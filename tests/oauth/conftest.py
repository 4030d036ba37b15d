"""A real OpenID Connect provider (npm `oidc-provider`, under Node) and nbchat's standalone
server with OAuth login, both on loopback ports chosen by the test.

`tests/oauth/provider/` holds the provider: package.json, package-lock.json and
server.mjs. The fixture installs it with `npm ci` when node_modules is missing or older than
the lock (offline-safe afterwards), and FAILS, not skips, when node or npm is missing: the
OAuth flow is part of what CI must prove.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

import nbchat as cl
from e2e import harness
from nbchat.app import App, registering_on
from nbchat.config import Config
from nbchat.data import SQLiteDataLayer
from nbchat.runtime.hosting import ChatHost
from nbchat.server import Services
from nbchat.server.auth.cookies import CookieIdentity
from nbchat.server.auth.oauth_providers import OAuthConfig, oauth_config
from nbchat.server.standalone import build_identity, make_app

PROVIDER_DIR = Path(__file__).resolve().parent / "provider"
ROOT = "/a%40b/"
SECRET = "o" * 20 + "a" * 20 + "u" * 8
CLIENT_ID = "nbchat-test"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"
MISSING_NODE = ("tests/oauth needs Node.js 20+ and npm on PATH to run the real OpenID Connect "
                "provider (npm `oidc-provider`); install them (Debian: apt-get install nodejs npm)")


def install_provider() -> None:
    """`npm ci` in tests/oauth/provider when node_modules is missing or older than the lock."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail(MISSING_NODE, pytrace=False)
    lock = PROVIDER_DIR / "package-lock.json"
    stamp = PROVIDER_DIR / "node_modules" / ".package-lock.json"
    installed = PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json"
    if installed.exists() and stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        pytest.fail(f"npm ci in {PROVIDER_DIR} failed:\n{done.stderr[-3000:]}", pytrace=False)


@pytest.fixture(scope="session")
def provider_installed() -> None:
    install_provider()


@dataclass
class OidcProvider:
    issuer: str
    process: asyncio.subprocess.Process


@contextlib.asynccontextmanager
async def run_provider(redirect_uri: str, log: Path) -> AsyncIterator[OidcProvider]:
    port = harness.free_port()
    env = {**os.environ, "PORT": str(port), "CLIENT_ID": CLIENT_ID,
           "CLIENT_SECRET": CLIENT_SECRET, "REDIRECT_URI": redirect_uri}
    with log.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            "node", str(PROVIDER_DIR / "server.mjs"), cwd=PROVIDER_DIR, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=errors)
        try:
            assert process.stdout is not None
            try:
                line = await asyncio.wait_for(process.stdout.readline(), 30)
            except TimeoutError:
                line = b""
            if not line:
                pytest.fail(f"the OIDC provider did not start: {log.read_text()[-3000:]}",
                            pytrace=False)
            yield OidcProvider(json.loads(line)["issuer"], process)
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()


@dataclass
class Calls:
    """What the app's oauth_callback saw, and what it should answer."""

    seen: list[tuple[str, str, dict[str, Any], cl.User]] = field(default_factory=list)
    refuse: bool = False


def oauth_app(calls: Calls) -> App:
    app = App("oauth")
    with registering_on(app):

        @cl.oauth_callback
        def decide(provider_id: str, token: str, raw: dict[str, Any],
                   default: cl.User) -> cl.User | None:
            calls.seen.append((provider_id, token, raw, default))
            if calls.refuse:
                return None
            return cl.User(identifier=default.identifier, display_name=default.display_name,
                           metadata={"provider": provider_id, "role": "reader"})

    return app


@dataclass
class OAuthServed:
    origin: str
    provider: OidcProvider
    calls: Calls
    data: SQLiteDataLayer
    config: OAuthConfig


@pytest.fixture
async def oauth_served(tmp_path: Path, provider_installed: None) -> AsyncIterator[OAuthServed]:
    """nbchat's standalone server (make_app, as `nbchat serve` mounts it) whose generic OIDC
    provider is the real one above, configured through the environment variables."""
    calls = Calls()
    app = oauth_app(calls)
    sock, port = bind_unused_port()
    origin = f"http://127.0.0.1:{port}"
    redirect_uri = f"{origin}{ROOT}oauth/generic/callback"
    async with run_provider(redirect_uri, tmp_path / "provider.log") as provider:
        config = oauth_config({
            "OAUTH_GENERIC_CLIENT_ID": CLIENT_ID, "OAUTH_GENERIC_CLIENT_SECRET": CLIENT_SECRET,
            "OAUTH_GENERIC_DISCOVERY_URL":
                provider.issuer + "/.well-known/openid-configuration",
            "OAUTH_GENERIC_NAME": "Test SSO", "NBCHAT_PUBLIC_URL": origin})
        nb_config = Config(app_dir=tmp_path)
        layer = SQLiteDataLayer(tmp_path / "db.sqlite", tmp_path / "files")
        assert layer.storage is not None
        identity = build_identity(app, nb_config, {"NBCHAT_AUTH_SECRET": SECRET})
        assert isinstance(identity, CookieIdentity)
        host = ChatHost(app, nb_config, layer)
        services = Services(layer, layer.storage, identity)
        application = make_app(app, nb_config, host=host, services=services,
                               identity=identity, root_path=ROOT, oauth=config)
        http = HTTPServer(application)
        http.add_sockets([sock])
        try:
            yield OAuthServed(origin, provider, calls, layer, config)
        finally:
            http.stop()
            await http.close_all_connections()
            await host.close()
