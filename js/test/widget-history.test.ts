import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../src/api";
import { CommTransport, type CommModel } from "../src/transports/comm";
import widget, { RESET_TIMEOUT_MS, attachHistory, clearProbes, jupyterServer, probeExtension } from "../src/widget";
import { ChatApp } from "../src/ui/app";
import { FrameScheduler } from "../src/frame";
import { WELCOME, numbered, step } from "./fixtures";
import { fakeFetch, json, settle, thread } from "./http";

function fakeModel() {
  const sent: unknown[] = [];
  let handler: ((msg: unknown, buffers: DataView[]) => void) | null = null;
  const model: CommModel = {
    send: (content) => sent.push(content),
    on: (_n, cb) => { handler = cb; },
    off: () => { handler = null; },
    get: () => undefined,
  };
  return { model, sent, push: (events: unknown[]) => handler?.({ events }, []) };
}

const LIST = () => json({ pageInfo: { hasNextPage: false, endCursor: null },
  data: [thread("t1", "Earlier chat", new Date().toISOString())] });

afterEach(() => {
  vi.useRealTimers();
  clearProbes();
  document.body.replaceChildren();
  document.getElementById("jupyter-config-data")?.remove();
});

function jupyterPage(config: Record<string, unknown>): void {
  const s = document.createElement("script");
  s.type = "application/json";
  s.id = "jupyter-config-data";
  s.textContent = JSON.stringify(config);
  document.head.append(s);
}

describe("widget history panel", () => {
  it("reads baseUrl and token from Jupyter's page config", () => {
    expect(jupyterServer()).toBeNull();
    jupyterPage({ baseUrl: "/user/ada", token: "" });
    expect(jupyterServer()).toEqual({ baseUrl: "/user/ada/", token: null });
  });

  it("probes {baseUrl}nbchat/api/openapi.json once per URL", async () => {
    const { fetch, calls } = fakeFetch({ "GET /lab/nbchat/api/openapi.json": () => json({ openapi: "3.1.0" }) });
    expect(await probeExtension("/lab/", fetch)).toBe(true);
    expect(await probeExtension("/lab/", fetch)).toBe(true);
    expect(calls).toHaveLength(1);
    expect(await probeExtension("/other/", fetch)).toBe(false); // 404
    expect(await probeExtension("/down/", () => Promise.reject(new Error("offline")))).toBe(false);
  });

  it("stays hidden without Jupyter's page config (VS Code, Colab)", async () => {
    const { model } = fakeModel();
    const el = document.createElement("div");
    const cleanup = widget.render({ model, el });
    await settle();
    expect(el.querySelector('button[aria-label="History"]')).toBeNull();
    cleanup();
  });

  it("shows the toggle when the extension answers, and opening a thread resets and resumes", async () => {
    const { fetch } = fakeFetch({
      "GET /lab/nbchat/api/openapi.json": () => json({ openapi: "3.1.0" }),
      "GET /lab/nbchat/api/threads": LIST,
    });
    const realFetch = globalThis.fetch;
    globalThis.fetch = fetch as typeof globalThis.fetch;
    try {
      jupyterPage({ baseUrl: "/lab/", token: "secret" });
      const { model, sent, push } = fakeModel();
      const el = document.createElement("div");
      document.body.append(el);
      const cleanup = widget.render({ model, el });
      push(numbered([WELCOME, { type: "step", step: step("m1", { output: "old session" }) }]));
      await settle();
      const toggle = el.querySelector<HTMLButtonElement>('button[aria-label="History"]')!;
      expect(toggle).not.toBeNull();
      expect(toggle.getAttribute("aria-expanded")).toBe("false");
      toggle.click();
      await settle();
      expect(toggle.getAttribute("aria-expanded")).toBe("true");
      const nav = el.querySelector('nav[aria-label="History"]')!;
      const link = [...nav.querySelectorAll<HTMLAnchorElement>("a")].find((a) => a.textContent === "Earlier chat")!;
      sent.length = 0;
      link.click();
      expect(sent).toEqual([{ host: "reset", resumeThreadId: "t1" },
        { type: "hello", protocolVersion: 1, resumeThreadId: "t1" }]);
      expect(toggle.getAttribute("aria-expanded")).toBe("false");
      expect(el.querySelectorAll('[role="article"]')).toHaveLength(0);
      // late events of the old session are dropped; the new session's welcome starts over
      push([{ type: "step", seq: 3, step: step("m2", { output: "late" }) }]);
      push(numbered([{ ...WELCOME, sessionId: "s2", threadId: "t1" }, { type: "step", step: step("r1", { output: "replayed" }) },
        { type: "thread", id: "t1", name: "Earlier chat" }]));
      const bodies = [...el.querySelectorAll('[role="article"]')].map((a) => a.getAttribute("data-id"));
      expect(bodies).toEqual(["r1"]);
      cleanup();
    } finally {
      globalThis.fetch = realFetch;
    }
  });

  it("new chat from the panel resets without a thread; a host that never resets is given up on", async () => {
    vi.useFakeTimers();
    const { model, sent } = fakeModel();
    const transport = new CommTransport(model);
    const el = document.createElement("div");
    const app = new ChatApp(el, { transport, resolveFile: async () => "" }, { scheduler: new FrameScheduler(() => 0) });
    const { fetch } = fakeFetch({ "GET /lab/nbchat/api/threads": LIST });
    attachHistory(app, transport, new ApiClient({ baseUrl: "/lab/nbchat/api", fetch }));
    el.querySelector<HTMLButtonElement>('button[aria-label="History"]')!.click();
    [...el.querySelectorAll("button")].find((b) => b.textContent === "New chat")!.click();
    expect(sent).toEqual([{ host: "reset" }, { type: "hello", protocolVersion: 1 }]);
    expect(app.resetting).toBe(true);
    await vi.advanceTimersByTimeAsync(RESET_TIMEOUT_MS + 10);
    expect(app.resetting).toBe(false);
    expect(sent.at(-1)).toEqual({ type: "hello", protocolVersion: 1 });
    expect(el.querySelector(".nbc-notices")?.textContent).toContain("does not support switching chats");
  });
});
