import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../src/api";
import { CALL_FN, CALL_FN_RESULT } from "../src/embedding";
import { ChatPage, parsePageConfig } from "../src/page";
import { FakeTransport, WELCOME, numbered } from "./fixtures";
import { fakeFetch, json } from "./http";

const PORTAL = "https://portal.example";

/** A chat page framed by a "parent": another window (an iframe's), whose posts are spied. */
function framed(embedOrigins: string[]) {
  document.body.innerHTML = `<div id="root"></div><iframe id="parent"></iframe>`;
  const parent = (document.getElementById("parent") as HTMLIFrameElement).contentWindow!;
  const posted = vi.spyOn(parent, "postMessage").mockImplementation(() => undefined);
  const config = parsePageConfig(JSON.stringify({ rootPath: "/", user: null, auth: { enabled: false },
    threadId: null, mode: "chat", name: "Chat", embedOrigins }));
  const { fetch } = fakeFetch({ "GET /nbchat/api/threads": () => json({ pageInfo: { hasNextPage: false, endCursor: null }, data: [] }) });
  const transports: FakeTransport[] = [];
  const chat = new ChatPage(document.getElementById("root")!, config, new ApiClient({ baseUrl: "/nbchat/api", doc: document, fetch }),
    () => { const t = new FakeTransport(); transports.push(t); return t; }, parent);
  const fromParent = (data: unknown, origin = PORTAL): void => {
    window.dispatchEvent(new MessageEvent("message", { data, origin, source: parent }));
  };
  return { chat, parent, posted, transports, fromParent };
}

let pages: ChatPage[] = [];
afterEach(() => { for (const p of pages) p.dispose(); pages = []; document.body.replaceChildren(); });

describe("the page inside an embedding page", () => {
  it("relays the allowed parent's messages once the session said welcome", () => {
    const { chat, transports, fromParent } = framed([PORTAL]);
    pages.push(chat);
    const transport = transports[0]!;
    fromParent("early");  // before welcome: held (the server refuses events before hello)
    expect(transport.types()).not.toContain("window_message");
    transport.deliver(numbered([WELCOME]));
    fromParent({ type: "VIEW_CONTEXT", areaId: "A7" });
    fromParent("from elsewhere", "https://evil.example");  // another origin: ignored
    const relayed = transport.sent.filter((s) => s.event.type === "window_message").map((s) => s.event);
    expect(relayed).toEqual([
      { type: "window_message", data: "early" },
      { type: "window_message", data: { type: "VIEW_CONTEXT", areaId: "A7" } },
    ]);
  });

  it("posts the app's window messages and calls to the allowed origins, and relays answers", () => {
    const { chat, posted, transports, fromParent } = framed([PORTAL]);
    pages.push(chat);
    const transport = transports[0]!;
    transport.deliver(numbered([WELCOME, { type: "window_message", data: { ready: true } },
      { type: "call_fn", callId: "c1", name: "getContext", args: { q: 1 }, timeout: 300 }]));
    expect(posted.mock.calls).toEqual([
      [{ ready: true }, PORTAL],
      [{ type: CALL_FN, callId: "c1", name: "getContext", args: { q: 1 } }, PORTAL],
    ]);
    fromParent({ type: CALL_FN_RESULT, callId: "c1", result: { page: "/orders" } });
    fromParent({ type: CALL_FN_RESULT, callId: "c2", error: "no such function" });
    expect(transport.sent.filter((s) => s.event.type === "call_fn_result").map((s) => s.event)).toEqual([
      { type: "call_fn_result", callId: "c1", result: { page: "/orders" } },
      { type: "call_fn_result", callId: "c2", error: "no such function" },
    ]);
  });

  it("does nothing without embed origins, and adds up token usage in the state", () => {
    const { chat, posted, transports, fromParent } = framed([]);
    pages.push(chat);
    const transport = transports[0]!;
    transport.deliver(numbered([WELCOME, { type: "window_message", data: "x" },
      { type: "token_usage", count: 40 }, { type: "token_usage", count: 2 }]));
    fromParent("hi");
    expect(posted).not.toHaveBeenCalled();
    expect(transport.types()).not.toContain("window_message");
    expect(chat.app?.state.tokenCount).toBe(42);
  });
});
