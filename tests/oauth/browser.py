"""A browser-like HTTP client for the OAuth flow: a cookie jar with paths, redirects followed
by hand (so a test can stop at the callback, tamper with it, or replay it)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie
from urllib.parse import urljoin, urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPResponse


class Browser:
    def __init__(self) -> None:
        # (host:port, path, name) → value. Browsers do not separate cookies by port; the two
        # servers here use different cookie names anyway.
        self.jar: dict[tuple[str, str, str], str] = {}
        self.client = AsyncHTTPClient(force_instance=True)
        self.history: list[str] = []

    def cookie(self, name: str) -> str | None:
        return next((v for (_, _, n), v in self.jar.items() if n == name), None)

    def _header(self, url: str) -> str:
        parts = urlsplit(url)
        return "; ".join(f"{name}={value}" for (host, path, name), value in self.jar.items()
                         if host == parts.netloc and (parts.path or "/").startswith(path))

    def _take(self, url: str, response: HTTPResponse) -> None:
        parts = urlsplit(url)
        for line in response.headers.get_list("Set-Cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                key = (parts.netloc, morsel["path"] or parts.path.rsplit("/", 1)[0] + "/", name)
                expires = morsel["expires"]
                if morsel["max-age"] == "0" or (
                        expires and parsedate_to_datetime(expires) < datetime.now(UTC)):
                    self.jar.pop(key, None)
                else:
                    self.jar[key] = morsel.value

    async def get(self, url: str) -> HTTPResponse:
        self.history.append(url)
        headers = {"Cookie": self._header(url)} if self._header(url) else {}
        response = await self.client.fetch(url, headers=headers, raise_error=False,
                                           follow_redirects=False)
        self._take(url, response)
        return response

    async def follow(self, url: str, *, stop_at: str | None = None,
                     limit: int = 20) -> tuple[HTTPResponse | None, str]:
        """GET `url` and its redirects; stops (without fetching) at a URL starting with
        `stop_at`. Returns (last response or None when stopped, last URL)."""
        response = None
        for _ in range(limit):
            if stop_at is not None and url.startswith(stop_at):
                return None, url
            response = await self.get(url)
            if response.code not in (301, 302, 303, 307, 308):
                return response, url
            url = urljoin(url, response.headers["Location"])
        raise AssertionError(f"more than {limit} redirects: {self.history[-5:]}")

    def close(self) -> None:
        self.client.close()
