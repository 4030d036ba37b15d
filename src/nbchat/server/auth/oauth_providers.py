"""OAuth providers of `nbchat serve`: the table, and the configuration read from the environment.

`oauth_config(environ)` reads every `OAUTH_*` variable once, at start-up, into a frozen
`OAuthConfig`; nothing else in nbchat looks at the environment for OAuth. A provider is on
when both `OAUTH_<P>_CLIENT_ID` and `OAUTH_<P>_CLIENT_SECRET` are set (one without the
other, or a missing domain/tenant, is a ConfigError: the server refuses to start).

| id | variables besides CLIENT_ID / CLIENT_SECRET | kind |
|---|---|---|
| github | (none) | OAuth 2.0, userinfo `api.github.com/user` |
| google | (none) | OIDC, issuer `https://accounts.google.com` |
| azure-ad | `OAUTH_AZURE_AD_TENANT_ID` | OIDC, `login.microsoftonline.com/{tenant}/v2.0` |
| okta | `OAUTH_OKTA_DOMAIN`, optional `OAUTH_OKTA_AUTHORIZATION_SERVER_ID` | OIDC |
| auth0 | `OAUTH_AUTH0_DOMAIN` | OIDC, issuer `https://{domain}/` |
| keycloak | `OAUTH_KEYCLOAK_BASE_URL`, `OAUTH_KEYCLOAK_REALM` | OIDC, `{base}/realms/{realm}` |
| gitlab | optional `OAUTH_GITLAB_DOMAIN` (default gitlab.com) | OIDC |
| generic | `OAUTH_GENERIC_DISCOVERY_URL` (OIDC), or `OAUTH_GENERIC_AUTHORIZE_URL`, | |
| | `_TOKEN_URL` and `_USERINFO_URL` (OAuth 2.0); optional `OAUTH_GENERIC_NAME` | |

Every provider also takes `OAUTH_<P>_SCOPES` (space- or comma-separated), and the public
address of the app, `NBCHAT_PUBLIC_URL` (e.g. `https://chat.example.com`), fixes the
redirect URI `{public_url}{root}oauth/{id}/callback`; without it the request's own scheme
and host are used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from nbchat.errors import ConfigError
from nbchat.server.auth import is_loopback

DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
PUBLIC_URL_ENV = "NBCHAT_PUBLIC_URL"
OIDC_SCOPES = ("openid", "email", "profile")


def _first_str(data: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def oidc_user(provider_id: str, claims: Mapping[str, Any]) -> tuple[str, str | None]:
    """(identifier, display name) from OIDC claims: the e-mail when the provider says it
    is verified, else `{provider}:{sub}` (never an unverified e-mail: anyone could claim
    someone else's address at a provider that does not check it)."""
    sub = _first_str(claims, "sub")
    if sub is None:
        raise ValueError("the provider's user data has no 'sub'")
    email = _first_str(claims, "email")
    identifier = email if email and claims.get("email_verified") is True else \
        f"{provider_id}:{sub}"
    name = _first_str(claims, "name", "preferred_username", "nickname", "email")
    return identifier, name


def github_user(provider_id: str, data: Mapping[str, Any]) -> tuple[str, str | None]:
    """GitHub's `/user`: the numeric id is stable (a login can be renamed and reused)."""
    user_id = _first_str(data, "id")
    if user_id is None:
        raise ValueError("GitHub's user data has no 'id'")
    return f"{provider_id}:{user_id}", _first_str(data, "name", "login")


def plain_user(provider_id: str, data: Mapping[str, Any]) -> tuple[str, str | None]:
    """A generic OAuth 2.0 userinfo: `sub`, else `id`, prefixed with the provider."""
    subject = _first_str(data, "sub", "id", "user_id")
    if subject is None:
        raise ValueError("the provider's user data has neither 'sub' nor 'id'")
    email = _first_str(data, "email")
    identifier = email if email and data.get("email_verified") is True else \
        f"{provider_id}:{subject}"
    return identifier, _first_str(data, "name", "preferred_username", "login", "email")


UserMapping = Callable[[str, Mapping[str, Any]], tuple[str, str | None]]


@dataclass(frozen=True)
class Provider:
    """One configured provider. OIDC ones (`issuer` set) find their endpoints through
    discovery; plain OAuth 2.0 ones carry them."""

    id: str
    name: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    issuer: str | None = None          # OIDC: the expected `iss`
    discovery_url: str | None = None   # OIDC
    authorize_url: str | None = None   # plain OAuth 2.0 (or overrides for OIDC)
    token_url: str | None = None
    userinfo_url: str | None = None
    map_user: UserMapping = oidc_user
    extra_authorize_params: tuple[tuple[str, str], ...] = ()

    @property
    def oidc(self) -> bool:
        return self.discovery_url is not None

    def __repr__(self) -> str:  # never print the secret
        return f"Provider(id={self.id!r}, issuer={self.issuer!r}, client_id={self.client_id!r})"


@dataclass(frozen=True)
class OAuthConfig:
    providers: tuple[Provider, ...] = ()
    public_url: str | None = None

    def get(self, provider_id: str) -> Provider | None:
        return next((p for p in self.providers if p.id == provider_id), None)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.providers)


def check_endpoint(url: str, what: str) -> str:
    """https only (plain http is allowed for loopback addresses, for local providers)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and is_loopback(parts.hostname or ""):
        return url
    raise ConfigError(f"{what} must be an https URL, got {url!r}")


def _env(environ: Mapping[str, str], key: str) -> str:
    return environ.get(key, "").strip()


def _scopes(environ: Mapping[str, str], prefix: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = _env(environ, f"{prefix}_SCOPES")
    return tuple(s for s in raw.replace(",", " ").split() if s) if raw else default


def _host(value: str, key: str) -> str:
    """A bare domain (`dev-1.okta.com`); a pasted `https://…/` is accepted and trimmed."""
    host = value.removeprefix("https://").rstrip("/")
    if not host or "/" in host or "?" in host or "#" in host or "@" in host:
        raise ConfigError(f"{key} must be a domain name like example.com, got {value!r}")
    return host


def _oidc(provider_id: str, name: str, issuer: str, client: tuple[str, str],
          scopes: tuple[str, ...], **extra: Any) -> Provider:
    issuer = check_endpoint(issuer, f"the {name} issuer")
    return Provider(provider_id, name, client[0], client[1], scopes, issuer=issuer,
                    discovery_url=issuer.rstrip("/") + DISCOVERY_SUFFIX, **extra)


def _build(provider_id: str, environ: Mapping[str, str], client: tuple[str, str]) -> Provider:
    prefix = "OAUTH_" + provider_id.upper().replace("-", "_")

    def need(suffix: str) -> str:
        value = _env(environ, f"{prefix}_{suffix}")
        if not value:
            raise ConfigError(f"{prefix}_CLIENT_ID is set, so {prefix}_{suffix} is needed too")
        return value

    if provider_id == "github":
        return Provider("github", "GitHub", *client, _scopes(environ, prefix, ("read:user",)),
                        authorize_url="https://github.com/login/oauth/authorize",
                        token_url="https://github.com/login/oauth/access_token",
                        userinfo_url="https://api.github.com/user", map_user=github_user)
    scopes = _scopes(environ, prefix, OIDC_SCOPES)
    if provider_id == "google":
        return _oidc("google", "Google", "https://accounts.google.com", client, scopes)
    if provider_id == "azure-ad":
        tenant = need("TENANT_ID")
        if not tenant.replace("-", "").replace(".", "").isalnum():
            raise ConfigError(f"{prefix}_TENANT_ID must be a tenant id or domain")
        # "common"/"organizations" publish the issuer with a {tenantid} placeholder,
        # filled from the token's `tid` (oauth.py).
        return _oidc("azure-ad", "Microsoft", f"https://login.microsoftonline.com/{tenant}/v2.0",
                     client, scopes)
    if provider_id == "okta":
        domain = _host(need("DOMAIN"), f"{prefix}_DOMAIN")
        server = _env(environ, f"{prefix}_AUTHORIZATION_SERVER_ID")
        issuer = f"https://{domain}" + (f"/oauth2/{server}" if server else "")
        return _oidc("okta", "Okta", issuer, client, scopes)
    if provider_id == "auth0":
        domain = _host(need("DOMAIN"), f"{prefix}_DOMAIN")
        return _oidc("auth0", "Auth0", f"https://{domain}/", client, scopes)
    if provider_id == "keycloak":
        base = need("BASE_URL").rstrip("/")
        realm = need("REALM")
        if not realm.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ConfigError(f"{prefix}_REALM must be a realm name, got {realm!r}")
        return _oidc("keycloak", _env(environ, f"{prefix}_NAME") or "Keycloak",
                     f"{base}/realms/{realm}", client, scopes)
    if provider_id == "gitlab":
        domain = _host(_env(environ, f"{prefix}_DOMAIN") or "gitlab.com", f"{prefix}_DOMAIN")
        return _oidc("gitlab", "GitLab", f"https://{domain}", client, scopes)
    # generic
    name = _env(environ, f"{prefix}_NAME") or "single sign-on"
    discovery = _env(environ, f"{prefix}_DISCOVERY_URL")
    if discovery:
        check_endpoint(discovery, f"{prefix}_DISCOVERY_URL")
        if not discovery.endswith(DISCOVERY_SUFFIX):
            raise ConfigError(f"{prefix}_DISCOVERY_URL must end with {DISCOVERY_SUFFIX}")
        issuer = discovery.removesuffix(DISCOVERY_SUFFIX)
        return _oidc("generic", name, issuer or discovery, client, scopes)
    urls = {key: check_endpoint(need(f"{key.upper()}_URL"), f"{prefix}_{key.upper()}_URL")
            for key in ("authorize", "token", "userinfo")}
    return Provider("generic", name, *client, _scopes(environ, prefix, ()),
                    authorize_url=urls["authorize"], token_url=urls["token"],
                    userinfo_url=urls["userinfo"], map_user=plain_user)


PROVIDER_IDS = ("github", "google", "azure-ad", "okta", "auth0", "keycloak", "gitlab",
                "generic")


def oauth_config(environ: Mapping[str, str]) -> OAuthConfig:
    """Every provider configured in `environ` (read once at start-up)."""
    providers = []
    for provider_id in PROVIDER_IDS:
        prefix = "OAUTH_" + provider_id.upper().replace("-", "_")
        client_id = _env(environ, f"{prefix}_CLIENT_ID")
        secret = _env(environ, f"{prefix}_CLIENT_SECRET")
        if not client_id and not secret:
            continue
        if not client_id or not secret:
            missing = f"{prefix}_CLIENT_SECRET" if client_id else f"{prefix}_CLIENT_ID"
            raise ConfigError(f"OAuth provider {provider_id}: {missing} is not set")
        providers.append(_build(provider_id, environ, (client_id, secret)))
    public_url = _env(environ, PUBLIC_URL_ENV).rstrip("/") or None
    if public_url is not None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path \
                or parts.query or parts.fragment:
            raise ConfigError(f"{PUBLIC_URL_ENV} must be scheme and host only, like "
                              f"https://chat.example.com, got {public_url!r}")
    return OAuthConfig(tuple(providers), public_url)
