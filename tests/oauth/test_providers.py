"""The provider table, configuration from the environment, URL building and user mapping.

GitHub, Google, Azure AD, Okta, Auth0, Keycloak and GitLab are internet endpoints, so they
are not reached here: their configuration and URLs are checked as data, and a local tornado
app stands in for a provider's token, userinfo, discovery and JWKS endpoints (the one place
in tests/oauth where HTTP answers are scripted; the flow itself is tested against a real
provider in test_oidc_flow.py).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler, create_signed_value

from nbchat.errors import ConfigError
from nbchat.server.auth.cookies import CookieIdentity
from nbchat.server.auth.oauth import FLOW_COOKIE, Flow, OAuthFlows
from nbchat.server.auth.oauth_client import Endpoints, OAuthClient, OAuthError, pkce_pair
from nbchat.server.auth.oauth_providers import (
    OAuthConfig,
    Provider,
    github_user,
    oauth_config,
    oidc_user,
    plain_user,
)

from . import conftest

CLIENT = {"CLIENT_ID": "cid", "CLIENT_SECRET": "csecret"}


def env(provider: str, **extra: str) -> dict[str, str]:
    prefix = "OAUTH_" + provider.upper().replace("-", "_") + "_"
    return {prefix + k: v for k, v in {**CLIENT, **extra}.items()}


@pytest.mark.parametrize(("provider", "extra", "issuer"), [
    ("google", {}, "https://accounts.google.com"),
    ("azure-ad", {"TENANT_ID": "contoso.onmicrosoft.com"},
     "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"),
    ("okta", {"DOMAIN": "dev-1.okta.com"}, "https://dev-1.okta.com"),
    ("okta", {"DOMAIN": "https://dev-1.okta.com/", "AUTHORIZATION_SERVER_ID": "default"},
     "https://dev-1.okta.com/oauth2/default"),
    ("auth0", {"DOMAIN": "acme.eu.auth0.com"}, "https://acme.eu.auth0.com/"),
    ("keycloak", {"BASE_URL": "https://sso.example.org/", "REALM": "staff"},
     "https://sso.example.org/realms/staff"),
    ("gitlab", {}, "https://gitlab.com"),
    ("gitlab", {"DOMAIN": "git.example.org"}, "https://git.example.org"),
    ("generic", {"DISCOVERY_URL": "https://id.example.org/.well-known/openid-configuration"},
     "https://id.example.org"),
])
def test_oidc_providers_are_discovered_from_their_issuer(
        provider: str, extra: dict[str, str], issuer: str) -> None:
    (p,) = oauth_config(env(provider, **extra)).providers
    assert (p.id, p.issuer, p.client_id, p.client_secret) == (provider, issuer, "cid", "csecret")
    assert p.discovery_url == issuer.rstrip("/") + "/.well-known/openid-configuration"
    assert p.oidc
    assert p.scopes == ("openid", "email", "profile")
    assert "csecret" not in repr(p)


def test_github_and_a_plain_oauth2_provider_carry_their_endpoints() -> None:
    config = oauth_config({**env("github"), **env(
        "generic", AUTHORIZE_URL="https://a.example/authorize", TOKEN_URL="https://a.example/t",
        USERINFO_URL="https://a.example/me", SCOPES="read:user, email", NAME="Acme")})
    github, generic = config.providers
    assert (github.authorize_url, github.token_url, github.userinfo_url) == (
        "https://github.com/login/oauth/authorize",
        "https://github.com/login/oauth/access_token", "https://api.github.com/user")
    assert not github.oidc
    assert github.scopes == ("read:user",)
    assert (generic.name, generic.scopes, generic.oidc) == ("Acme", ("read:user", "email"), False)
    assert config.ids == ("github", "generic")
    assert config.get("generic") is generic
    assert config.get("google") is None


@pytest.mark.parametrize(("environ", "message"), [
    ({"OAUTH_GOOGLE_CLIENT_ID": "x"}, "OAUTH_GOOGLE_CLIENT_SECRET is not set"),
    ({"OAUTH_GITHUB_CLIENT_SECRET": "x"}, "OAUTH_GITHUB_CLIENT_ID is not set"),
    (env("azure-ad"), "OAUTH_AZURE_AD_TENANT_ID is needed"),
    (env("okta"), "OAUTH_OKTA_DOMAIN is needed"),
    (env("okta", DOMAIN="evil.example/x?"), "must be a domain name"),
    (env("auth0"), "OAUTH_AUTH0_DOMAIN is needed"),
    (env("keycloak", BASE_URL="https://k.example"), "OAUTH_KEYCLOAK_REALM is needed"),
    (env("keycloak", BASE_URL="http://k.example", REALM="r"), "must be an https URL"),
    (env("generic"), "OAUTH_GENERIC_AUTHORIZE_URL is needed"),
    (env("generic", DISCOVERY_URL="https://id.example/other"), "must end with"),
    ({"NBCHAT_PUBLIC_URL": "https://chat.example/sub"}, "scheme and host only"),
])
def test_half_configured_providers_stop_the_server(environ: dict[str, str],
                                                   message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("?", r"\?")):
        oauth_config(environ)


def test_nothing_configured_means_no_providers_and_http_only_on_loopback() -> None:
    assert oauth_config({}) == OAuthConfig()
    assert oauth_config({"NBCHAT_PUBLIC_URL": "https://chat.example/"}).public_url == \
        "https://chat.example"
    local = oauth_config(env("generic", DISCOVERY_URL="http://127.0.0.1:8080"
                                                     "/.well-known/openid-configuration"))
    assert local.providers[0].issuer == "http://127.0.0.1:8080"


def test_user_mapping() -> None:
    claims = {"sub": "42", "email": "ada@example.org", "name": "Ada"}
    assert oidc_user("google", {**claims, "email_verified": True}) == ("ada@example.org", "Ada")
    # An e-mail the provider did not verify is never the identifier.
    assert oidc_user("okta", claims) == ("okta:42", "Ada")
    assert oidc_user("keycloak", {"sub": "7", "preferred_username": "bob"}) == \
        ("keycloak:7", "bob")
    assert github_user("github", {"id": 583231, "login": "octocat", "name": None}) == \
        ("github:583231", "octocat")
    assert plain_user("generic", {"id": 9, "login": "zed"}) == ("generic:9", "zed")
    for mapping in (oidc_user, github_user, plain_user):
        with pytest.raises(ValueError, match="no"):
            mapping("x", {"name": "nobody"})


def test_authorize_urls_carry_state_pkce_and_nonce() -> None:
    config = oauth_config({**env("github"), **env("google")})
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    github = OAuthClient(config.providers[0])
    url = github.authorize_url(Endpoints("https://github.com/login/oauth/authorize", "t"),
                               "https://chat.example/oauth/github/callback", "st", challenge,
                               None)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://github.com/login/oauth/authorize?")
    assert query == {"response_type": ["code"], "client_id": ["cid"],
                     "redirect_uri": ["https://chat.example/oauth/github/callback"],
                     "state": ["st"], "code_challenge": [challenge],
                     "code_challenge_method": ["S256"], "scope": ["read:user"]}
    google = OAuthClient(config.providers[1])
    url = google.authorize_url(Endpoints("https://accounts.google.com/o/oauth2/v2/auth?x=1",
                                         "t"), "https://c/cb", "st", challenge, "n0")
    query = parse_qs(urlsplit(url).query)
    assert (query["x"], query["nonce"], query["scope"]) == (["1"], ["n0"],
                                                            ["openid email profile"])


# -- a local stand-in for a provider's endpoints ---------------------------------------------

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class StandIn:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, list[str]]]] = []
        self.answers: dict[str, tuple[int, Any]] = {}
        self.origin = ""


@pytest.fixture
async def stand_in() -> AsyncIterator[StandIn]:
    state = StandIn()

    class Answer(RequestHandler):
        def handle(self) -> None:
            state.requests.append((self.request.path, dict(self.request.headers),
                                   parse_qs(self.request.body.decode())))
            status, body = state.answers.get(self.request.path, (404, {"error": "nope"}))
            self.set_status(status)
            self.finish(json.dumps(body))

        get = post = handle

    sock, port = bind_unused_port()
    server = HTTPServer(Application([(r"/.*", Answer)]))
    server.add_sockets([sock])
    state.origin = f"http://127.0.0.1:{port}"
    yield state
    server.stop()


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid,
            "use": "sig", "alg": "RS256"}


async def test_github_style_exchange_and_userinfo(stand_in: StandIn) -> None:
    base = oauth_config(env("github")).providers[0]
    provider = dataclasses.replace(base, authorize_url=stand_in.origin + "/authorize",
                                   token_url=stand_in.origin + "/token",
                                   userinfo_url=stand_in.origin + "/user")
    stand_in.answers["/token"] = (200, {"access_token": "gho_1", "token_type": "bearer"})
    stand_in.answers["/user"] = (200, {"id": 583231, "login": "octocat", "name": "Mona"})
    client = OAuthClient(provider)
    ends = await client.endpoints()
    token = await client.exchange(ends, "the-code", "https://c/cb", "the-verifier")
    raw = await client.user_data(ends, token, None)
    assert provider.map_user("github", raw) == ("github:583231", "Mona")
    (_, token_headers, form), (_, user_headers, _) = stand_in.requests
    assert form == {"grant_type": ["authorization_code"], "code": ["the-code"],
                    "redirect_uri": ["https://c/cb"], "code_verifier": ["the-verifier"],
                    "client_id": ["cid"], "client_secret": ["csecret"]}
    assert token_headers["Accept"] == "application/json"
    assert user_headers["Authorization"] == "Bearer gho_1"

    # GitHub answers errors with 200 and an `error` field; a 5xx is the provider failing.
    stand_in.answers["/token"] = (200, {"error": "bad_verification_code"})
    with pytest.raises(OAuthError, match="bad_verification_code") as refused:
        await client.exchange(ends, "x", "https://c/cb", "v")
    assert refused.value.status == 400
    stand_in.answers["/token"] = (503, {})
    with pytest.raises(OAuthError) as failed:
        await client.exchange(ends, "x", "https://c/cb", "v")
    assert failed.value.status == 502


def oidc_stand_in(stand_in: StandIn, *, issuer: str | None = None) -> OAuthClient:
    provider = Provider("azure-ad", "Microsoft", "cid", "csecret", ("openid", "email"),
                        issuer=issuer or stand_in.origin,
                        discovery_url=stand_in.origin + "/.well-known/openid-configuration")
    stand_in.answers["/.well-known/openid-configuration"] = (200, {
        "issuer": issuer or stand_in.origin, "authorization_endpoint": stand_in.origin + "/a",
        "token_endpoint": stand_in.origin + "/token", "jwks_uri": stand_in.origin + "/jwks",
        "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"]})
    stand_in.answers["/jwks"] = (200, {"keys": [jwk(KEY, "k1")]})
    return OAuthClient(provider)


def id_token(issuer: str, *, key: Any = KEY, kid: str = "k1", alg: str = "RS256",
             **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": issuer, "aud": "cid", "sub": "s1", "iat": now, "exp": now + 300,
            "nonce": "n1", **claims}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


async def test_id_tokens_are_verified_against_the_jwks(stand_in: StandIn) -> None:
    client = oidc_stand_in(stand_in)
    ends = await client.endpoints()
    assert ends.algorithms == ("RS256",)  # HS256 and none are never accepted
    assert ends.basic_auth
    iss = stand_in.origin
    claims = await client.verify_id_token(ends, id_token(iss, email="a@b.c"), "n1")
    assert (claims["sub"], claims["email"]) == ("s1", "a@b.c")

    refused = [
        id_token(iss, aud="another-client"),
        id_token("https://evil.example"),
        id_token(iss, exp=int(time.time()) - 3600),
        id_token(iss, nonce="another-sign-in"),
        id_token(iss, key=OTHER_KEY),  # right kid, wrong key
        id_token(iss, key=OTHER_KEY, kid="k-unknown"),
        id_token(iss, key="x" * 32, alg="HS256"),  # algorithm confusion
        id_token(iss, aud=["cid", "other"], azp="other"),
    ]
    for token in refused:
        with pytest.raises(OAuthError) as error:
            await client.verify_id_token(ends, token, "n1")
        assert error.value.status == 400


async def test_azure_multi_tenant_issuer_is_checked_against_the_tid(stand_in: StandIn) -> None:
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    client = oidc_stand_in(stand_in, issuer="https://login.microsoftonline.com/common/v2.0")
    stand_in.answers["/.well-known/openid-configuration"][1]["issuer"] = template
    ends = await client.endpoints()
    good = id_token(template.replace("{tenantid}", "t-1"), tid="t-1")
    assert (await client.verify_id_token(ends, good, "n1"))["tid"] == "t-1"
    with pytest.raises(OAuthError):
        await client.verify_id_token(
            ends, id_token(template.replace("{tenantid}", "t-2"), tid="t-1"), "n1")


async def test_a_discovery_document_naming_another_issuer_is_refused(
        stand_in: StandIn) -> None:
    client = oidc_stand_in(stand_in)
    stand_in.answers["/.well-known/openid-configuration"][1]["issuer"] = "https://evil.example"
    with pytest.raises(OAuthError, match="another issuer"):
        await client.endpoints()


async def test_an_expired_or_forged_flow_cookie_is_refused() -> None:
    from nbchat.app import App

    identity = CookieIdentity(App("x"), conftest.SECRET)
    flows = OAuthFlows(OAuthConfig(), identity)
    flow = Flow("generic", "state", "verifier", "nonce", "/", "https://c/cb")
    assert flows.decode(flows.encode(flow)) == flow
    old = create_signed_value(identity.secret, FLOW_COOKIE, json.dumps(list(
        dataclasses.astuple(flow))), clock=lambda: time.time() - 700).decode()
    assert flows.decode(old) is None
    assert flows.decode(flows.encode(flow)[:-2] + "00") is None
    assert flows.decode(None) is None
    assert not await flows.seen("s")
    assert await flows.seen("s")


def test_the_provider_fixture_fails_without_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="needs Node"):
        conftest.install_provider()
