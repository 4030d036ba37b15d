import { describe, expect, it } from "vitest";
import { WELCOME, numbered } from "./fixtures";
import { setupApp } from "./ui12-setup";

const MCP_WELCOME = { ...WELCOME, config: { ...WELCOME.config, mcp: { user_servers: ["stdio", "streamable-http"] } } };

function status(name: string, state: "connected" | "failed" | "disconnected", extra: Record<string, unknown> = {}) {
  return { type: "mcp_status", name, clientType: "stdio", status: state, tools: state === "connected" ? ["add", "shout"] : [], ...extra };
}

describe("MCP servers panel", () => {
  it("is hidden when the app lets no one add servers and none is connected", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME]));
    flush();
    expect(el.querySelector<HTMLElement>(".nbc-mcp")!.hidden).toBe(true);
  });

  it("sends mcp_connect for a stdio command line and an HTTP URL with its Authorization header", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([MCP_WELCOME]));
    flush();
    const panel = el.querySelector<HTMLElement>(".nbc-mcp")!;
    expect(panel.hidden).toBe(false);
    const form = panel.querySelector<HTMLFormElement>("form")!;
    const name = form.querySelector<HTMLInputElement>('[aria-label="Server name"]')!;
    const kind = form.querySelector<HTMLSelectElement>('[aria-label="Transport"]')!;
    const target = form.querySelector<HTMLInputElement>('[aria-label="Command or URL"]')!;
    const auth = form.querySelector<HTMLInputElement>('[aria-label="Authorization header"]')!;
    expect([...kind.options].map((o) => o.value)).toEqual(["stdio", "streamable-http"]);
    name.value = "files";
    target.value = "/opt/mcp/files  --root /data";
    form.requestSubmit();
    name.value = "web";
    kind.value = "streamable-http";
    kind.dispatchEvent(new Event("change"));
    expect(auth.hidden).toBe(false);
    target.value = "https://tools.example/mcp";
    auth.value = "Bearer k";
    form.requestSubmit();
    const sent = transport.sent.map((s) => s.event).filter((e) => e.type === "mcp_connect");
    expect(sent).toEqual([
      { type: "mcp_connect", name: "files", clientType: "stdio", command: "/opt/mcp/files", args: ["--root", "/data"] },
      { type: "mcp_connect", name: "web", clientType: "streamable-http", url: "https://tools.example/mcp",
        headers: { Authorization: "Bearer k" } },
    ]);
  });

  it("lists connected servers with a Remove button, drops them on disconnect and tells a failure", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME, status("calc", "connected")]));
    flush();
    const panel = el.querySelector<HTMLElement>(".nbc-mcp")!;
    expect(panel.hidden).toBe(false);
    expect(panel.querySelector(".nbc-mcp-server")?.textContent).toContain("calc · stdio · 2 tools");
    panel.querySelector<HTMLButtonElement>('button[aria-label="Remove calc"]')!.click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "mcp_disconnect", name: "calc" });
    transport.deliver(numbered([status("calc", "disconnected"), status("bad", "failed", { error: "exit 3" })], 3));
    flush();
    expect(panel.querySelectorAll(".nbc-mcp-server")).toHaveLength(0);
    expect(panel.hidden).toBe(true);
    expect(el.querySelector(".nbc-notices")?.textContent).toContain("MCP server bad: exit 3");
  });
});
