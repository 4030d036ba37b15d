import { afterEach, describe, expect, it } from "vitest";
import { boot } from "../src/page";
import { FakeTransport, WELCOME, numbered } from "./fixtures";
import { fakeFetch, json } from "./http";
import { setupApp } from "./ui12-setup";

const CONFIG = {
  wsUrl: "/ws", apiUrl: "/nbchat/api", blobUrl: "/nbchat/blobs/", rootPath: "/", user: null,
  auth: { enabled: false }, threadId: null, mode: "chat", name: "Demo",
};

afterEach(() => {
  document.body.replaceChildren();
  window.history.replaceState(null, "", "/");
});

describe("?prompt= on the served page", () => {
  it("fills the composer without sending a message", () => {
    window.history.replaceState(null, "", "/?prompt=What%20is%20nbchat%3F");
    document.body.innerHTML = `<div id="nbchat-root"></div><script type="application/json" id="nbchat-page"></script>`;
    document.getElementById("nbchat-page")!.textContent = JSON.stringify(CONFIG);
    const transports: FakeTransport[] = [];
    const { fetch } = fakeFetch({ "GET /nbchat/api/threads": () => json({ pageInfo: { hasNextPage: false, endCursor: null }, data: [] }) });
    const handle = boot(document, { fetch, makeTransport: () => { const t = new FakeTransport(); transports.push(t); return t; } })!;
    const box = document.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]');
    expect(box?.value).toBe("What is nbchat?");
    expect(transports[0]?.types()).not.toContain("user_message");
    handle.dispose();
  });
});

describe("starters", () => {
  it("are real buttons named by their label inside list items", () => {
    const { transport, el } = setupApp();
    transport.deliver(numbered([WELCOME]));
    const list = el.querySelector('[role="list"][aria-label="Starters"]')!;
    const item = list.querySelector('[role="listitem"]')!;
    const btn = item.querySelector("button")!;
    // no role attribute overriding the implicit "button" role
    expect(btn.getAttribute("role")).toBeNull();
    expect(btn.textContent).toBe("Say hi");
    btn.click();
    expect(transport.sent.at(-1)?.event).toMatchObject({ type: "user_message", content: "hi" });
  });
});
