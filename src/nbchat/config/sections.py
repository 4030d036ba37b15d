"""The settings: one frozen dataclass per section of `nbchat.yaml`, with each key's type,
default and a comment saying what it does (docs/config.md is generated from them).
`nbchat.config` loads them (`load`) and re-exports every class here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class ProjectConfig:
    name: str = "nbchat"
    # Seconds a disconnected session is kept for a reconnecting client before it is closed.
    session_timeout: int = 3600
    # Environment variables each user must give (an API key of their own): asked for by
    # the chat, available as cl.user_session.get("env"), never stored.
    user_env: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThemeColors:
    """One colour scheme's tokens; "" keeps nbchat's own (or JupyterLab's) colour. Any CSS
    colour: `#4f46e5`, `rgb(79 70 229)`, `hsl(243 75% 59%)`."""

    primary: str = ""  # buttons, links, focus, the send button
    on_primary: str = ""  # text and icons on the primary colour
    background: str = ""
    surface: str = ""  # sidebar, composer, code bars
    surface_strong: str = ""  # hover and selection
    text: str = ""
    muted: str = ""  # secondary text
    border: str = ""
    user_bubble: str = ""
    code_background: str = ""
    error: str = ""


@dataclass(frozen=True)
class ThemeConfig:
    # The scheme on a first visit: the system's (or JupyterLab's), or always light/dark.
    # A user's choice with the page's sun/moon toggle wins over it.
    default: Literal["system", "light", "dark"] = "system"
    radius: str = ""  # corner radius of cards, e.g. "12px"
    font_family: str = ""  # e.g. "Inter, system-ui, sans-serif"
    mono_font_family: str = ""
    light: ThemeColors = field(default_factory=ThemeColors)
    dark: ThemeColors = field(default_factory=ThemeColors)


@dataclass(frozen=True)
class HeaderLink:
    name: str
    url: str
    icon_url: str = ""


@dataclass(frozen=True)
class UIConfig:
    name: str = "Assistant"
    description: str = ""
    # Chain of thought: every step (full), only tool and llm steps (tool_call), or none.
    cot: Literal["full", "tool_call", "hidden"] = "full"
    # Raw HTML in messages is sanitized away unless this is on (security invariant 4).
    unsafe_allow_html: bool = False
    default_collapse_content: bool = True
    # Markdown the UI offers as the app's readme (from chainlit.md when migrating).
    readme: str = ""
    # The message posted when the user presses Stop (Chainlit's text); "" posts none.
    stop_message: str = "Task manually stopped."
    theme: ThemeConfig = field(default_factory=ThemeConfig)
    # Files in the app's public/ folder ("style.css" or Chainlit's "/public/style.css"),
    # loaded by the served page after nbchat's own.
    custom_css: str = ""
    custom_js: str = ""
    # Files in public/; "": public/logo_light.* / logo_dark.* / favicon.* when they exist.
    logo: str = ""
    logo_dark: str = ""
    favicon: str = ""
    header_links: tuple[HeaderLink, ...] = ()
    # The UI's language ("fr", "pt-BR"); "": the browser's.
    language: str = ""


@dataclass(frozen=True)
class UploadConfig:
    # Chainlit's defaults: files may be attached to any message.
    enabled: bool = True
    accept: tuple[str, ...] = ("*/*",)
    max_files: int = 20
    max_size_mb: int = 500


@dataclass(frozen=True)
class FeaturesConfig:
    spontaneous_file_upload: UploadConfig = field(default_factory=UploadConfig)
    edit_message: bool = True
    # Tag a stored chat with its chat profile (Chainlit's features.auto_tag_thread).
    auto_tag_thread: bool = True


@dataclass(frozen=True)
class RuntimeConfig:
    # Token coalescing: flush at most this long after the first pending token…
    stream_interval_ms: int = 30
    # …or as soon as this many characters are pending.
    stream_max_chars: int = 65536
    # Events kept per session for replay to a reconnecting client.
    replay_buffer: int = 4096
    # Largest client event accepted, in bytes.
    max_event_bytes: int = 1_048_576
    # Show tracebacks of failing callbacks in the chat (otherwise only in the log).
    debug: bool = False
    # `import chainlit` served by nbchat: when chainlit is not installed (auto), always, never.
    chainlit_alias: Literal["auto", "on", "off"] = "auto"
    # Seconds a callback may run (asks included) before it is stopped; None: no limit.
    callback_timeout: int | None = None
    # Log a warning naming the running callback when the event loop is blocked this long
    # (ms); None: no watchdog.
    stall_warning_ms: int | None = 1000


@dataclass(frozen=True)
class DataConfig:
    enabled: bool = True
    # None: SQLite at <app dir>/.nbchat/nbchat.db; or sqlite:///path, or postgresql://…
    url: str | None = None
    # None: element bytes in <app dir>/.nbchat/files/; or a bucket: s3://…, gs://…,
    # azure-blob://…, abfs://… (docs/persistence.md, "Element bytes in a bucket")
    storage_url: str | None = None
    # A streaming reply's text is saved at most this often (ms); its end, at once.
    checkpoint_ms: int = 1000


@dataclass(frozen=True)
class ServerConfig:
    """`nbchat serve`'s network limits (docs/serving.md, "Network safety")."""

    # Host names an app without login answers besides localhost, IP addresses and the
    # address it listens on (a DNS-rebinding guard); "*" answers any.
    allowed_hosts: tuple[str, ...] = ()
    # Addresses or CIDR networks of reverse proxies whose X-Forwarded-For/-Proto are
    # believed; from anyone else those headers are ignored.
    trusted_proxies: tuple[str, ...] = ()
    # Largest request body in bytes; the upload routes raise it to their own limits.
    max_body_bytes: int = 2_097_152
    # ms a connection may take to send a request's headers, or stay idle between requests.
    idle_timeout_ms: int = 60_000
    # ms a request body may take; an upload's body may instead pause at most this long.
    body_timeout_ms: int = 60_000
    # Live chat sessions one user may hold (0: no cap); see docs/serving.md.
    max_sessions_per_user: int = 20
    # Origins (https://host[:port]) whose pages may embed the chat page in an iframe and
    # exchange window messages with it (@cl.on_window_message); "*": any. None by default.
    embed_origins: tuple[str, ...] = ()
    # Also answer ChatKit's front end at <root>chatkit (docs/chatkit.md; needs the
    # nbchat[chatkit] extra and persistence).
    chatkit: bool = False
    # Redis (redis://host:6379/0) for the state several processes share: sign-outs, the
    # sign-in limiter, OAuth states, the session directory and the session bus. None: one
    # process keeps it in memory (docs/deploying.md).
    redis_url: str | None = None
    # Prefix of every Redis key and channel, so apps (or test runs) can share one Redis.
    redis_prefix: str = "nbchat"


McpTransport = Literal["stdio", "streamable-http", "sse"]


@dataclass(frozen=True)
class McpServerConfig:
    """One MCP server the app declares (`mcp.servers.<name>`): connected in every chat."""

    type: McpTransport = "stdio"
    # stdio: the executable's full path, and its arguments (run without a shell; the server
    # gets only the MCP SDK's short list of safe variables, PATH and HOME among them).
    command: str = ""
    args: tuple[str, ...] = ()
    # streamable-http and sse: the endpoint, and headers sent with every request.
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class McpConfig:
    """MCP servers (docs/integrations/mcp.md)."""

    enabled: bool = True
    servers: dict[str, McpServerConfig] = field(default_factory=dict)
    # Transports a user may add servers with, per chat, in the UI; () lets no one.
    user_servers: tuple[McpTransport, ...] = ()
    # Servers one user may add to one chat (connected or connecting).
    max_user_servers: int = 5
    # Full paths of the executables a user-added stdio server may run (exact match).
    allowed_executables: tuple[str, ...] = ()
    # URLs (scheme, host, port and a path prefix) a user-added HTTP or SSE server may use.
    allowed_urls: tuple[str, ...] = ()
    # Show each tool call made through a session in cl.context.session.mcp_sessions as a
    # tool step.
    tool_steps: bool = True
    # Seconds a server may take to start and answer `initialize`.
    connect_timeout: int = 30


@dataclass(frozen=True)
class OtelConfig:
    """Every step as an OpenTelemetry span, with OpenInference attributes
    (docs/integrations/opentelemetry.md)."""

    enabled: bool = False
    # OTLP/HTTP traces endpoint (e.g. http://127.0.0.1:4318/v1/traces); None: the spans go
    # to the process's global TracerProvider, which the app sets up itself.
    endpoint: str | None = None
    # Headers sent with every export (an API key of the collector).
    headers: dict[str, str] = field(default_factory=dict)
    service_name: str = "nbchat"
    # Send inputs, outputs and messages; off, only names, kinds, timings, models and tokens.
    include_content: bool = True


@dataclass(frozen=True)
class Config:
    project: ProjectConfig = field(default_factory=ProjectConfig)
    ui: UIConfig = field(default_factory=UIConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    data: DataConfig = field(default_factory=DataConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    mcp: McpConfig = field(default_factory=McpConfig)
    otel: OtelConfig = field(default_factory=OtelConfig)
    app_dir: Path = field(default_factory=Path.cwd)

    def to_client(self) -> dict[str, Any]:
        """The part of the configuration the browser needs (sent in `welcome`), with the
        app's own UI strings and per-language readmes (chainlit_compat.translations)."""
        from nbchat.chainlit_compat.translations import app_readmes, app_translations

        upload = self.features.spontaneous_file_upload
        return {
            "translations": app_translations(self.app_dir),
            "readmes": app_readmes(self.app_dir),
            "project": {"user_env": list(self.project.user_env)},
            "ui": dataclasses.asdict(self.ui),
            "features": {
                "spontaneous_file_upload": {**dataclasses.asdict(upload),
                                            "accept": list(upload.accept)},
                "edit_message": self.features.edit_message,
            },
            "mcp": {"user_servers": list(self.mcp.user_servers) if self.mcp.enabled else []},
        }
