"""What a user may connect to: the checks in front of every user-added MCP server.

A server the app declares in nbchat.yaml (`mcp.servers`) is the author's; one a user adds
in the chat (`mcp_connect`) must be allowed by the config, exactly:

- stdio: the command is one of `mcp.allowed_executables`, compared as a string with no
  lookup on PATH, so a bare name (`python3`), a detour (`/usr/bin/../bin/python3`) or a
  command line with shell syntax (`/usr/bin/x; id`) never matches. It runs with no shell
  and with the MCP SDK's short list of safe environment variables: nothing is injected.
- streamable-http and sse: the URL's scheme, host and port equal those of one of
  `mcp.allowed_urls`, and its path is that entry's path or below it (on a `/` boundary).
  A path with dot segments, encoded separators or non-ASCII is refused rather than
  normalized (a proxy or server could decode it into another path than the one checked).
  Headers that route or authenticate the connection itself (Host, Cookie, X-Forwarded-*…)
  are refused; the SDK follows no redirect that leaves the URL's origin.
"""

from __future__ import annotations

import os.path
import re
from collections.abc import Iterable, Mapping
from urllib.parse import SplitResult, unquote, urlsplit

__all__ = ["McpRefused", "check_executable", "check_headers", "check_name", "check_url"]


class McpRefused(ValueError):
    """A server a user asked for is not one the config allows."""


# Characters a shell gives meaning to, and whitespace: never part of an allowed path.
_SHELL = re.compile(r"[\s;&|<>()$`\\\"'*?\[\]{}~!#%=,^]")
_NAME = re.compile(r"^[\w .:@-]{1,64}$")
_RESTRICTED_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "upgrade", "te",
    "trailer", "keep-alive", "proxy-authorization", "proxy-connection", "cookie",
    "forwarded", "via", "x-real-ip", "x-http-method-override", "x-method-override",
    "x-original-url", "x-rewrite-url", "mcp-session-id", "mcp-protocol-version",
})


def check_name(name: str) -> str:
    """A server's name as the chat shows it: 1-64 letters, digits, spaces or `_.:@-`."""
    if not _NAME.match(name) or name.strip() != name:
        raise McpRefused(f"an MCP server name is 1 to 64 letters, digits, spaces or _.:@- "
                         f"(no leading or trailing space), got {name!r}")
    return name


def is_clean_path(command: str) -> bool:
    """An absolute, normalized path with no shell syntax: how allowed executables are
    written (nbchat.yaml is checked with this too)."""
    return (os.path.isabs(command) and os.path.normpath(command) == command
            and not command.startswith("//") and not _SHELL.search(command)
            and command.isprintable())


def check_executable(command: str, allowed: Iterable[str]) -> str:
    """`command` if it is one of `allowed`, character for character."""
    listed = tuple(allowed)
    if not listed:
        raise McpRefused("no stdio MCP server may be added here: mcp.allowed_executables "
                         "is empty")
    if not is_clean_path(command) or command not in listed:
        raise McpRefused(f"{command!r} is not an allowed MCP server executable; this app "
                         f"allows: {', '.join(listed)} (exact full paths, no shell)")
    return command


def _port(url: SplitResult) -> int:
    port = url.port  # raises ValueError for a port that is not a number in range
    return port if port is not None else (443 if url.scheme == "https" else 80)


def _ambiguous(path: str) -> bool:
    """True for a path a server could read as another one than we checked."""
    lowered = path.lower()
    if any(marker in lowered for marker in ("%2e", "%2f", "%5c", "%25", "%00")):
        return True
    if "\\" in path or not path.isascii():
        return True
    if any(segment in (".", "..") for segment in path.split("/")):
        return True
    return not unquote(path).isprintable()


def _parse(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        _port(parts)
    except ValueError:
        raise McpRefused(f"{url!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise McpRefused(f"{url!r}: an MCP server URL is http:// or https:// with a host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise McpRefused(f"{url!r}: credentials in the URL are not allowed; send a header")
    if _ambiguous(parts.path) or not url.isprintable() or " " in url or "\\" in url:
        raise McpRefused(f"{url!r}: the path has dot segments, encoded separators or "
                         "characters that are not plain ASCII")
    return parts


def _under(path: str, prefix: str) -> bool:
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/") or (not base and path in ("", "/"))


def check_url(url: str, allowed: Iterable[str]) -> str:
    """`url` if it lies under one of `allowed` (same scheme, host and port; path below)."""
    listed = tuple(allowed)
    if not listed:
        raise McpRefused("no HTTP MCP server may be added here: mcp.allowed_urls is empty")
    parts = _parse(url)
    for entry in listed:
        allow = urlsplit(entry)
        if (allow.scheme == parts.scheme and allow.hostname == parts.hostname
                and _port(allow) == _port(parts)
                and (_under(parts.path, allow.path) or not allow.path.strip("/"))):
            return url
    raise McpRefused(f"{url!r} is not under an allowed MCP server URL; this app allows: "
                     f"{', '.join(listed)}")


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers a user gave for their server, if none of them is one we refuse."""
    out: dict[str, str] = {}
    for key, value in headers.items():
        if key.lower() in _RESTRICTED_HEADERS or key.lower().startswith("x-forwarded-"):
            raise McpRefused(f"the header {key!r} may not be set for an MCP server")
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", key) or any(
                c in value for c in "\r\n\0"):
            raise McpRefused(f"the header {key!r} is not a valid HTTP header")
        out[key] = value
    return out
