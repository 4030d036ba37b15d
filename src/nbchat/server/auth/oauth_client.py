"""The provider side of nbchat's OAuth login: discovery, the code exchange, ID tokens, userinfo.

`OAuthClient(provider)` talks to one provider with tornado's AsyncHTTPClient (timeouts, no
redirects followed). OIDC providers are discovered through `{issuer}/.well-known/openid-
configuration` (the document must name the expected issuer; endpoints must be https, or
http on loopback), cached for an hour. ID tokens are verified with PyJWT against the JWKS:
only the asymmetric algorithms the provider advertises (never HS*/none, so no algorithm
confusion), `iss`, `aud` (and `azp` with several audiences), `exp`, `iat` with a minute's
leeway, and the sign-in's `nonce` in constant time; an unknown `kid` refetches the key set
once (key rotation). Failures raise OAuthError with the status and message the page shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import jwt
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from nbchat.server.auth.oauth_providers import Provider, check_endpoint

log = logging.getLogger("nbchat.server")

HTTP_TIMEOUT = 15.0
DISCOVERY_TTL = 3600.0
LEEWAY = 60  # seconds of clock skew allowed on exp/iat
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                       "ES256", "ES384", "ES512", "EdDSA")  # never HS*/none


class OAuthError(Exception):
    """A failed sign-in: `status` and a message fit for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) per RFC 7636."""
    verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    userinfo: str | None = None
    jwks: str | None = None
    issuer: str | None = None
    basic_auth: bool = False  # client_secret_basic, else client_secret_post
    algorithms: tuple[str, ...] = ("RS256",)


class OAuthClient:
    """Talks to one provider: discovery, JWKS, code exchange, userinfo."""

    def __init__(self, provider: Provider, http: AsyncHTTPClient | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.provider = provider
        self._http = http
        self.clock = clock
        self._endpoints: tuple[Endpoints, float] | None = None
        self._keys: dict[str, jwt.PyJWK] | None = None

    @property
    def http(self) -> AsyncHTTPClient:
        """The given client, or the running loop's shared one (looked up at use: the
        config may be built before the server's loop runs)."""
        return self._http or AsyncHTTPClient()

    async def _json(self, request: HTTPRequest, what: str) -> Any:
        try:
            response = await self.http.fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as exc:
            log.warning("OAuth %s: %s unreachable: %s", self.provider.id, what, exc)
            raise OAuthError(502, f"The sign-in provider could not be reached ({what}).") from exc
        try:
            data = json.loads(response.body or b"null")
        except ValueError:
            data = None
        if response.code >= 500 or response.code == 599:
            raise OAuthError(502, f"The sign-in provider failed ({what}, {response.code}).")
        if response.code >= 400 or not isinstance(data, dict) or "error" in data:
            error = data.get("error") if isinstance(data, dict) else None
            log.warning("OAuth %s: %s answered %s %r", self.provider.id, what, response.code,
                        error)
            raise OAuthError(400, f"The sign-in provider refused the {what}"
                                  f"{f' ({error})' if isinstance(error, str) else ''}. "
                                  "Start the sign-in again.")
        return data

    def _get(self, url: str, headers: Mapping[str, str] | None = None) -> HTTPRequest:
        return HTTPRequest(url, headers={"Accept": "application/json", "User-Agent": "nbchat",
                                         **(headers or {})},
                           connect_timeout=HTTP_TIMEOUT, request_timeout=HTTP_TIMEOUT,
                           follow_redirects=False)

    async def endpoints(self) -> Endpoints:
        p = self.provider
        if not p.oidc:
            return Endpoints(p.authorize_url or "", p.token_url or "", p.userinfo_url)
        if self._endpoints is not None and self._endpoints[1] > self.clock():
            return self._endpoints[0]
        assert p.discovery_url is not None
        doc = await self._json(self._get(p.discovery_url), "discovery document")
        issuer = doc.get("issuer")
        if issuer != p.issuer and not (p.id == "azure-ad" and isinstance(issuer, str)
                                       and "{tenantid}" in issuer):
            raise OAuthError(502, "The sign-in provider's discovery document names another "
                                  "issuer.")
        try:
            urls = {key: check_endpoint(doc[key], key) if isinstance(doc.get(key), str)
                    else None for key in ("authorization_endpoint", "token_endpoint",
                                          "userinfo_endpoint", "jwks_uri")}
        except Exception as exc:
            raise OAuthError(502, "The sign-in provider's discovery document has an "
                                  "endpoint that is not https.") from exc
        if not (urls["authorization_endpoint"] and urls["token_endpoint"] and urls["jwks_uri"]):
            raise OAuthError(502, "The sign-in provider's discovery document is incomplete.")
        methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        algs = tuple(a for a in doc.get("id_token_signing_alg_values_supported") or ["RS256"]
                     if a in ID_TOKEN_ALGORITHMS)
        found = Endpoints(
            p.authorize_url or urls["authorization_endpoint"] or "",
            p.token_url or urls["token_endpoint"] or "",
            p.userinfo_url or urls["userinfo_endpoint"], urls["jwks_uri"], issuer,
            basic_auth="client_secret_basic" in methods, algorithms=algs or ("RS256",))
        self._endpoints = (found, self.clock() + DISCOVERY_TTL)
        return found

    def authorize_url(self, ends: Endpoints, redirect_uri: str, state: str, challenge: str,
                      nonce: str | None) -> str:
        params = {"response_type": "code", "client_id": self.provider.client_id,
                  "redirect_uri": redirect_uri, "state": state,
                  "code_challenge": challenge, "code_challenge_method": "S256",
                  **dict(self.provider.extra_authorize_params)}
        if self.provider.scopes:
            params["scope"] = " ".join(self.provider.scopes)
        if nonce is not None:
            params["nonce"] = nonce
        return ends.authorize + ("&" if "?" in ends.authorize else "?") + urlencode(params)

    async def exchange(self, ends: Endpoints, code: str, redirect_uri: str,
                       verifier: str) -> dict[str, Any]:
        p = self.provider
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "code_verifier": verifier}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if ends.basic_auth:  # RFC 6749 2.3.1: form-encode, then base64
            pair = f"{quote_plus(p.client_id)}:{quote_plus(p.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form.update(client_id=p.client_id, client_secret=p.client_secret)
        request = self._get(ends.token, headers)
        request.method, request.body = "POST", urlencode(form).encode()
        token = await self._json(request, "code exchange")
        if not isinstance(token.get("access_token"), str) or not token["access_token"]:
            raise OAuthError(400, "The sign-in provider sent no access token.")
        if str(token.get("token_type", "bearer")).lower() != "bearer":
            raise OAuthError(400, "The sign-in provider sent an unsupported token type.")
        return dict(token)

    async def _key(self, ends: Endpoints, kid: str | None) -> jwt.PyJWK:
        for refresh in (False, True):
            if self._keys is None or refresh:
                assert ends.jwks is not None
                doc = await self._json(self._get(ends.jwks), "key set")
                keys: dict[str, jwt.PyJWK] = {}
                for entry in doc.get("keys") or []:
                    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                        continue
                    try:
                        keys[str(entry.get("kid", ""))] = jwt.PyJWK(entry)
                    except jwt.PyJWTError:
                        continue  # a key type or algorithm this library does not know
                self._keys = keys
            if kid is None and len(self._keys) == 1:
                return next(iter(self._keys.values()))
            if kid is not None and kid in self._keys:
                return self._keys[kid]
        raise OAuthError(400, "The ID token is signed with a key the provider does not publish.")

    async def verify_id_token(self, ends: Endpoints, id_token: str, nonce: str) -> dict[str, Any]:
        p = self.provider
        try:
            header = jwt.get_unverified_header(id_token)
            alg = header.get("alg")
            if alg not in ends.algorithms:
                raise OAuthError(400, "The ID token's signature algorithm is not accepted.")
            key = await self._key(ends, header.get("kid"))
            issuer = ends.issuer or p.issuer or ""
            if "{tenantid}" in issuer:  # Azure AD multi-tenant
                unverified = jwt.decode(id_token, options={"verify_signature": False})
                issuer = issuer.replace("{tenantid}", str(unverified.get("tid", "")))
            claims: dict[str, Any] = jwt.decode(
                id_token, key.key, algorithms=[alg], audience=p.client_id, issuer=issuer,
                leeway=LEEWAY, options={"require": ["iss", "aud", "exp", "iat", "sub"]})
        except jwt.PyJWTError as exc:
            log.warning("OAuth %s: ID token refused: %s", p.id, exc)
            raise OAuthError(400, "The sign-in provider's ID token did not verify.") from exc
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != p.client_id:
            raise OAuthError(400, "The ID token was issued to another client.")
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
            raise OAuthError(400, "The ID token belongs to another sign-in (nonce).")
        return claims

    async def user_data(self, ends: Endpoints, token: Mapping[str, Any],
                        nonce: str | None) -> dict[str, Any]:
        """The ID token's verified claims merged with the userinfo (same `sub`)."""
        claims: dict[str, Any] = {}
        id_token = token.get("id_token")
        if self.provider.oidc and "openid" in self.provider.scopes:
            if not isinstance(id_token, str) or nonce is None:
                raise OAuthError(400, "The sign-in provider sent no ID token.")
            claims = await self.verify_id_token(ends, id_token, nonce)
        if ends.userinfo:
            bearer = {"Authorization": f"Bearer {token['access_token']}"}
            info = await self._json(self._get(ends.userinfo, bearer), "user information")
            if claims and str(info.get("sub")) != str(claims["sub"]):
                raise OAuthError(400, "The user information is about another user.")
            claims = {**claims, **info}
        if not claims:
            raise OAuthError(400, "The sign-in provider sent no user information.")
        return claims
