"""Who may reach `nbchat serve`, as seen from the network: the Host guard and trusted proxies.

    hosts = HostGuard.for_server(config, "0.0.0.0", login=False)   # None: no check
    application = GuardedApplication(handlers, hosts=hosts, login=False,
                                     proxies=TrustedProxies.parse(config.server.trusted_proxies),
                                     **settings)

DNS rebinding: a web page on `evil.example` whose name the attacker re-points at
127.0.0.1 reaches a server on loopback with `Host: evil.example` and, being same-origin
with itself, passes the WebSocket's Origin check. An app without login would then answer
that page as the local user. So without login only names that cannot be rebound are
answered (`HostGuard`): `localhost`, any IP address (a page can only be same-origin with
an address if it was loaded from that address), the name the server listens on, and
`server.allowed_hosts`; anything else gets 403 naming that key. With login the guard is
off unless `server.allowed_hosts` is set: a rebound page has no session cookie.

Forwarded headers: `X-Forwarded-For`, `X-Real-Ip` and `X-Forwarded-Proto` are believed only
from a peer in `server.trusted_proxies` (`TrustedProxies`); from anyone else they are
ignored, so the sign-in limiter and the access log see the real peer.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import tornado.httputil
import tornado.web
from tornado.web import RequestHandler

from nbchat.config import Config
from nbchat.errors import ConfigError

log = logging.getLogger("nbchat.server")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
WILDCARD_BINDS = ("", "0.0.0.0", "::")
ALLOWED_HOSTS_KEY = "server.allowed_hosts"


def host_name(host_header: str) -> str:
    """`Example.COM:8000` → `example.com`; `[::1]:8000` → `::1` (no port, no brackets)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostGuard:
    """The Host names a served app answers (see the module docstring)."""

    names: frozenset[str]
    any_name: bool = False

    @classmethod
    def for_server(cls, config: Config, bind: str, *, login: bool) -> HostGuard | None:
        """The guard for an app bound to `bind`; None (no check) for an app with login
        and no `server.allowed_hosts`."""
        configured = [host_name(h) for h in config.server.allowed_hosts]
        if login and not configured:
            return None
        names = {"localhost", *configured}
        if bind not in WILDCARD_BINDS:
            names.add(host_name(bind))
        return cls(frozenset(names - {"*"}), "*" in configured)

    def allows(self, host_header: str) -> bool:
        name = host_name(host_header)
        return self.any_name or name in self.names or is_ip(name)


@dataclass(frozen=True)
class TrustedProxies:
    """Reverse proxies whose forwarded headers are believed (none: they never are)."""

    networks: tuple[IPNetwork, ...] = ()
    # Also believe a peer on a Unix socket: the ASGI mount in front of a private server
    # (nbchat.server.mounted), the only process that can reach its 0600 socket.
    unix_peer: bool = False

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TrustedProxies:
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ConfigError(f"server.trusted_proxies: {entry!r} is not an IP address or "
                                  "CIDR network (e.g. 10.0.0.0/8 or 127.0.0.1)") from None
        return cls(tuple(networks))

    def trusts(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def apply(self, request: tornado.httputil.HTTPServerRequest) -> None:
        """From a trusted peer: the client's address and scheme as the proxies forwarded
        them. X-Forwarded-For is read from the right, past every trusted hop; the first
        address not trusted is the client (a client can put anything on the left)."""
        if not (self.unix_peer and _over_unix_socket(request)) and (
                not self.networks or not self.trusts(request.remote_ip)):
            return
        headers = request.headers
        forwarded = headers.get("X-Forwarded-For")
        client: str | None = None
        if forwarded:
            for hop in reversed([h.strip() for h in forwarded.split(",")]):
                if not is_ip(hop):
                    break
                client = hop
                if not self.trusts(hop):
                    break
        elif is_ip(headers.get("X-Real-Ip", "").strip()):
            client = headers["X-Real-Ip"].strip()
        if client is not None:
            request.remote_ip = client
        proto = headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            request.protocol = proto


def _over_unix_socket(request: tornado.httputil.HTTPServerRequest) -> bool:
    context = getattr(request.connection, "context", None)
    return getattr(context, "address_family", None) == socket.AF_UNIX


class HostRefusedHandler(RequestHandler):
    """403 for a Host the guard refuses, on every method (also a WebSocket upgrade)."""

    def initialize(self, login: bool) -> None:
        self.login = login

    def prepare(self) -> None:
        name = host_name(self.request.host)[:100]
        why = ("this app is served with login and server.allowed_hosts is set"
               if self.login else "this app has no login, so it answers only localhost, IP "
               "addresses and the address it listens on (protection from DNS rebinding)")
        message = (f"host {name!r} is not allowed: {why}. To serve it under this name, add "
                   f"it to {ALLOWED_HOSTS_KEY} in nbchat.yaml (or NBCHAT_SERVER_ALLOWED_HOSTS)")
        log.warning("nbchat: refused a request for host %r from %s; see %s", name,
                    self.request.remote_ip, ALLOWED_HOSTS_KEY)
        self.set_status(403)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"error": {"code": "host_not_allowed", "message": message},
                                "status": 403}))


class GuardedApplication(tornado.web.Application):
    """A tornado Application that applies trusted proxies' headers, then the Host guard,
    to every request before it is routed (pages, API, static files, the WebSocket)."""

    def __init__(self, handlers: list[Any], *, hosts: HostGuard | None,
                 proxies: TrustedProxies, login: bool, **settings: Any) -> None:
        super().__init__(handlers, **settings)
        self.hosts = hosts
        self.proxies = proxies
        self.login = login

    def find_handler(self, request: tornado.httputil.HTTPServerRequest,
                     **kwargs: Any) -> tornado.web._HandlerDelegate:
        self.proxies.apply(request)
        if self.hosts is not None and not self.hosts.allows(request.host):
            return self.get_handler_delegate(request, HostRefusedHandler,
                                             {"login": self.login})
        return super().find_handler(request, **kwargs)
