/** The chat's MCP servers: the connected ones (each with a Remove button) and, when the app
 * lets users add servers (`welcome.config.mcp.user_servers`), a small form that sends
 * `mcp_connect`. Whether a command or URL is allowed is the server's call, never this form's. */
import type { ClientEvent, McpConnect, McpStatus } from "../protocol";
import * as act from "../store/actions";
import { h } from "./dom";

type Transport = McpConnect["clientType"];
const TRANSPORTS: readonly Transport[] = ["stdio", "streamable-http", "sse"];

export class McpPanel {
  readonly el = h("details", { class: "nbc-mcp", hidden: true });
  private readonly list = h("ul", { class: "nbc-mcp-list", "aria-label": "MCP servers" });
  private readonly form = h("form", { class: "nbc-mcp-form", "aria-label": "Add an MCP server", hidden: true });
  private readonly name = h("input", { class: "nbc-input", "aria-label": "Server name", placeholder: "name", required: true });
  private readonly kind = h("select", { class: "nbc-input", "aria-label": "Transport" });
  private readonly target = h("input", { class: "nbc-input", "aria-label": "Command or URL", required: true });
  private readonly auth = h("input", { class: "nbc-input", type: "password", autocomplete: "off",
    "aria-label": "Authorization header", placeholder: "Authorization (optional)" });
  private servers: readonly McpStatus[] = [];

  constructor(private readonly send: (event: ClientEvent) => void) {
    this.form.append(this.name, this.kind, this.target, this.auth,
      h("button", { type: "submit", class: "nbc-btn nbc-primary" }, "Connect"));
    this.kind.addEventListener("change", () => this.placeholder());
    this.form.onsubmit = (e) => { e.preventDefault(); this.submit(); };
    this.el.append(h("summary", {}, "MCP servers"), this.list, this.form);
  }

  /** The transports users may add servers with (`welcome.config.mcp.user_servers`; none: no form). */
  setAllowed(kinds: unknown): void {
    const allowed = TRANSPORTS.filter((t) => Array.isArray(kinds) && kinds.includes(t));
    this.kind.replaceChildren(...allowed.map((t) => h("option", { value: t }, t)));
    this.form.hidden = allowed.length === 0;
    this.placeholder();
    this.refresh();
  }

  /** Show the connected servers after `event`; a failure is also told through `alert`. */
  update(servers: Readonly<Record<string, McpStatus>>, event: McpStatus, alert: (text: string) => void): void {
    if (event.status === "failed") alert(`MCP server ${event.name}: ${event.error ?? "failed"}`);
    this.servers = Object.values(servers);
    this.list.replaceChildren(...this.servers.map((s) => h("li", { class: "nbc-mcp-server" },
      h("span", { title: s.tools.join(", ") }, `${s.name} · ${s.clientType} · ${s.tools.length} tools`),
      h("button", { type: "button", class: "nbc-btn", "aria-label": `Remove ${s.name}`,
        onclick: () => this.send(act.mcpDisconnect(s.name)) }, "Remove"))));
    this.refresh();
  }

  private refresh(): void {
    this.el.hidden = this.servers.length === 0 && this.form.hidden;
  }

  private placeholder(): void {
    const stdio = this.kind.value === "stdio";
    this.target.placeholder = stdio ? "/full/path/to/server --arg" : "https://host/mcp";
    this.auth.hidden = stdio;
  }

  private submit(): void {
    const kind = this.kind.value as Transport;
    const target = this.target.value.trim();
    if (kind === "stdio") {
      // Split on spaces only: the command is a path the app lists, the rest its arguments.
      const [command = "", ...args] = target.split(/\s+/).filter(Boolean);
      this.send(act.mcpConnect(this.name.value.trim(), kind, { command, args }));
    } else {
      const headers: Record<string, string> = this.auth.value ? { Authorization: this.auth.value } : {};
      this.send(act.mcpConnect(this.name.value.trim(), kind, { url: target, headers }));
    }
    this.name.value = "";
    this.target.value = "";
    this.auth.value = "";
  }
}
