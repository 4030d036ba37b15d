import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { boot, parsePageConfig, toWsUrl } from "../src/page";
import { FakeTransport, WELCOME, numbered, step } from "./fixtures";
import { fakeFetch, json, settle, thread } from "./http";

class UrlTransport extends FakeTransport {
  constructor(readonly url: string) { super(); }
  hello(): Record<string, unknown> | undefined {
    return this.sent.find((s) => s.event.type === "hello")?.event as Record<string, unknown> | undefined;
  }
}

const BASE = {
  wsUrl: "/app/ws", apiUrl: "/app/nbchat/api", blobUrl: "/app/nbchat/blobs/", rootPath: "/app/",
  user: { identifier: "ada", display_name: "Ada Lovelace" },
  auth: { enabled: true, logoutUrl: "/app/logout", loginUrl: "/app/login" }, threadId: null, mode: "chat", name: "Demo",
};

function page(config: Record<string, unknown>, routes: Parameters<typeof fakeFetch>[0] = {}) {
  document.body.innerHTML = `<div id="nbchat-root"></div><script type="application/json" id="nbchat-page"></script>`;
  document.getElementById("nbchat-page")!.textContent = JSON.stringify({ ...BASE, ...config });
  const transports: UrlTransport[] = [];
  const { fetch, calls } = fakeFetch({
    "GET /app/nbchat/api/threads": () => json({ pageInfo: { hasNextPage: false, endCursor: null },
      data: [thread("t1", "Old chat", new Date().toISOString()), thread("t9", "Resumed", new Date().toISOString())] }),
    ...routes,
  });
  const handle = boot(document, { fetch, makeTransport: (url) => {
    const t = new UrlTransport(url);
    transports.push(t);
    return t;
  } });
  return { handle: handle!, transports, calls, root: document.getElementById("nbchat-root")! };
}

const byRole = (root: ParentNode, role: string, name: string): HTMLElement | undefined =>
  [...root.querySelectorAll<HTMLElement>(role === "button" ? "button" : `[role="${role}"], ${role}`)]
    .find((el) => (el.getAttribute("aria-label") ?? el.textContent ?? "").trim() === name);

let handles: { dispose(): void }[] = [];
beforeEach(() => { window.history.replaceState(null, "", "/app/"); });
afterEach(() => {
  for (const h of handles) h.dispose();
  handles = [];
  document.body.replaceChildren();
});

describe("page config", () => {
  it("normalises the JSON the server renders", () => {
    const c = parsePageConfig(JSON.stringify({ wsUrl: "/x/ws", apiUrl: "/x/nbchat/api/", blobUrl: "/x/nbchat/blobs",
      rootPath: "/x", user: null, auth: { enabled: false }, threadId: "", mode: "weird" }));
    expect(c).toMatchObject({ apiUrl: "/x/nbchat/api", blobUrl: "/x/nbchat/blobs/", rootPath: "/x/", threadId: null,
      mode: "chat", name: "nbchat", auth: { enabled: false, logoutUrl: null } });
    expect(() => parsePageConfig("{not json")).toThrow();
  });

  it("makes WebSocket URLs absolute with ws/wss", () => {
    expect(toWsUrl("/app/ws", "https://h.example/app/")).toBe("wss://h.example/app/ws");
    expect(toWsUrl("http://h:8000/ws", "http://h:8000/")).toBe("ws://h:8000/ws");
    expect(toWsUrl("ws://a/ws")).toBe("ws://a/ws");
  });
});

describe("served page", () => {
  it("boots from #nbchat-page: sidebar, chat, resume of the thread in the URL", async () => {
    window.history.replaceState(null, "", "/app/thread/t9");
    const { handle, transports, root } = page({ threadId: "t9" });
    handles.push(handle);
    expect(root.querySelector('nav[aria-label="History"]')).not.toBeNull();
    expect(byRole(root, "button", "New chat")).toBeDefined();
    expect(root.querySelector('input[aria-label="Search chats"]')).not.toBeNull();
    expect(root.querySelector('[aria-label="Message"]')).not.toBeNull();
    expect(transports).toHaveLength(1);
    expect(transports[0]!.url).toBe("ws://localhost:3000/app/ws");
    expect(transports[0]!.hello()).toEqual({ type: "hello", protocolVersion: 1, resumeThreadId: "t9" });
    await settle();
    const links = [...root.querySelectorAll<HTMLAnchorElement>("nav a")];
    expect(links.map((a) => [a.textContent, a.getAttribute("href")])).toEqual([
      ["Old chat", "/app/thread/t1"], ["Resumed", "/app/thread/t9"]]);
    expect(links[1]?.getAttribute("aria-current")).toBe("page");
    // the replayed thread: same URL, title follows
    transports[0]!.deliver(numbered([{ ...WELCOME, sessionId: "s1", threadId: "t9" },
      { type: "element", element: { id: "e1", threadId: "t9", type: "image", name: "plot", display: "inline", forId: null,
        mime: "image/png", size: null, language: null, url: null, objectKey: "k/a b.png" } },
      { type: "thread", id: "t9", name: "Resumed" }]));
    expect(location.pathname).toBe("/app/thread/t9");
    expect(document.title).toBe("Resumed · Demo");
    await settle();
    expect(root.querySelector<HTMLImageElement>('[data-element-id="e1"] img')?.getAttribute("src"))
      .toBe("/app/nbchat/blobs/s1/k%2Fa%20b.png");
  });

  it("new chat → fresh session, the URL follows the thread event; sidebar opens threads in new sessions", async () => {
    const { handle, transports, root } = page({});
    handles.push(handle);
    await settle();
    expect(transports[0]!.hello()).toEqual({ type: "hello", protocolVersion: 1 });
    transports[0]!.deliver(numbered([WELCOME, { type: "step", step: step("u1", { type: "user_message", output: "hi" }) },
      { type: "thread", id: "t42", name: "hi" }]));
    expect(location.pathname).toBe("/app/thread/t42");
    const first = root.querySelector<HTMLAnchorElement>("nav a")!;
    expect(first.textContent).toBe("hi");
    expect(first.getAttribute("aria-current")).toBe("page");

    root.querySelector<HTMLAnchorElement>('nav a[href="/app/thread/t1"]')!.click();
    expect(transports).toHaveLength(2);
    expect(transports[0]!.status).toBe("closed");
    expect(transports[1]!.hello()).toEqual({ type: "hello", protocolVersion: 1, resumeThreadId: "t1" });
    expect(location.pathname).toBe("/app/thread/t1");
    expect(root.querySelectorAll(".nbc-chat > .nbc-root")).toHaveLength(1);

    byRole(root, "button", "New chat")!.click();
    expect(transports).toHaveLength(3);
    expect(transports[2]!.hello()).toEqual({ type: "hello", protocolVersion: 1 });
    expect(location.pathname).toBe("/app/");

    // back/forward
    window.history.replaceState(null, "", "/app/thread/t42");
    window.dispatchEvent(new PopStateEvent("popstate"));
    expect(transports[3]!.hello()).toEqual({ type: "hello", protocolVersion: 1, resumeThreadId: "t42" });
  });

  it("renaming the open thread renames its header; deleting it starts a new chat", async () => {
    const { handle, transports, root } = page({ threadId: "t1" }, {
      "DELETE /app/nbchat/api/threads/t1": () => json(null, 204),
      "PATCH /app/nbchat/api/threads/t1": () => json({ id: "t1", name: "Better name", shared: false }),
    });
    handles.push(handle);
    await settle();
    root.querySelector<HTMLElement>('[data-thread-id="t1"] button[aria-label="Rename"]')!.click();
    const input = root.querySelector<HTMLInputElement>('input[aria-label="Chat name"]')!;
    input.value = "Better name";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await settle();
    expect(root.querySelector(".nbc-chat .nbc-title")?.textContent).toBe("Better name");
    expect(document.title).toBe("Better name · Demo");
    root.querySelector<HTMLElement>('[data-thread-id="t1"] button[aria-label="Delete"]')!.click();
    byRole(root.querySelector('[role="alertdialog"]')!, "button", "Delete")!.click();
    await settle();
    expect(root.querySelector('[data-thread-id="t1"]')).toBeNull();
    expect(transports).toHaveLength(2);
    expect(location.pathname).toBe("/app/");
  });

  it("has a user menu whose logout posts the _xsrf cookie", () => {
    document.cookie = "_xsrf=tok123; path=/";
    const { handle, root } = page({});
    handles.push(handle);
    // named by the user's name, then "User menu" (read out, not shown)
    const menuBtn = root.querySelector<HTMLElement>(".nbc-user-btn")!;
    expect(menuBtn.textContent).toMatch(/Ada Lovelace User menu$/);
    expect(menuBtn.querySelector(".nbc-user-name")?.textContent).toBe("Ada Lovelace");
    menuBtn.click();
    expect(menuBtn.getAttribute("aria-expanded")).toBe("true");
    const form = root.querySelector<HTMLFormElement>("form.nbc-logout")!;
    expect(form.getAttribute("action")).toBe("/app/logout");
    expect(form.method).toBe("post");
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(form.querySelector<HTMLInputElement>('input[name="_xsrf"]')!.value).toBe("tok123");
    expect(byRole(root, "button", "Log out")).toBeDefined();
    document.cookie = "_xsrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
  });

  it("shows no user menu without auth", () => {
    const { handle, root } = page({ auth: { enabled: false }, user: null });
    handles.push(handle);
    expect(byRole(root, "button", "User menu")).toBeUndefined();
  });
});

describe("share mode", () => {
  it("renders the stored thread read-only under a banner", async () => {
    const stored = thread("t1", "Plot help", "2024-01-01T10:00:00Z", { shared: true,
      steps: [
        { id: "u1", type: "user_message", name: "Ada", output: "Plot it", createdAt: "2024-01-01T10:00:00Z", parentId: null },
        { id: "a1", type: "assistant_message", name: "Bot", output: "**Done**", createdAt: "2024-01-01T10:00:01Z",
          parentId: null, feedback: { forId: "a1", value: 1 } },
        { id: "r1", type: "tool", name: "plotter", output: "ok", createdAt: "2024-01-01T10:00:01Z", parentId: "a1" },
      ],
      elements: [{ id: "e1", type: "image", name: "chart", display: "inline", forId: "a1",
        url: "/app/nbchat/api/threads/t1/files/e1", threadId: "t1" }] });
    const { handle, root, transports } = page({ mode: "share", threadId: "t1" },
      { "GET /app/nbchat/api/threads/t1": () => json(stored) });
    handles.push(handle);
    await handle.share!.ready;
    await settle();
    expect(transports).toHaveLength(0);
    expect(root.querySelector('[role="note"]')?.textContent).toContain("Shared conversation, read-only");
    const articles = [...root.querySelectorAll('[role="article"]')];
    expect(articles.map((a) => a.getAttribute("aria-label"))).toEqual(["Ada", "Bot"]);
    expect(articles[1]?.querySelector("strong")?.textContent).toBe("Done");
    expect(root.querySelector('.nbc-step[data-id="r1"]')).not.toBeNull();
    expect(root.querySelector<HTMLImageElement>('[data-element-id="e1"] img')?.getAttribute("src"))
      .toBe("/app/nbchat/api/threads/t1/files/e1");
    const composer = root.querySelector<HTMLElement>(".nbc-composer");
    expect(composer === null || composer.hidden).toBe(true);
    expect(root.querySelector('[aria-label="Helpful"]')).toBeNull();
    expect(root.querySelector('nav[aria-label="History"]')).toBeNull();
    expect(document.title).toBe("Plot help · Demo");
  });

  it("says so when the thread is not shared or does not exist", async () => {
    const { handle, root } = page({ mode: "share", threadId: "nope" });
    handles.push(handle);
    await handle.share!.ready;
    expect(root.querySelector('[role="alert"]')?.textContent).toBe("This conversation is not shared or does not exist");
    expect(root.querySelector('[role="article"]')).toBeNull();
  });
});
