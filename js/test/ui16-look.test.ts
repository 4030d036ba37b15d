/** Issue 16 look: jump to the latest message, the theme toggle, the mobile drawer's
 * backdrop and Escape, the widget history panel's width, dark mode from Lab's theme. */
import { afterEach, describe, expect, it } from "vitest";
import { boot } from "../src/page";
import { SchemeWatcher } from "../src/ui/theme";
import { FakeTransport, WELCOME, numbered, step } from "./fixtures";
import { fakeFetch, json } from "./http";
import { setupApp } from "./ui12-setup";

afterEach(() => {
  document.body.replaceChildren();
  localStorage.clear();
  delete document.body.dataset.jpThemeLight;
});

/** jsdom has no layout: give the scroller a size and a scroll position. */
function fakeLayout(el: HTMLElement, height: number, top: number): void {
  Object.defineProperty(el, "scrollHeight", { configurable: true, value: height });
  Object.defineProperty(el, "clientHeight", { configurable: true, value: 400 });
  el.scrollTop = top;
  el.dispatchEvent(new Event("scroll"));
}

describe("jump to the latest message", () => {
  it("shows when scrolled up, and scrolls to the end when pressed", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1", { output: "long" }) }]));
    flush();
    const scroller = el.querySelector<HTMLElement>(".nbc-scroll")!;
    const jump = el.querySelector<HTMLButtonElement>('button[aria-label="Jump to the latest message"]')!;
    expect(jump.hidden).toBe(true);
    fakeLayout(scroller, 2000, 100); // the layout moved, not the user: still following
    expect(jump.hidden).toBe(true);
    scroller.dispatchEvent(new WheelEvent("wheel", { deltaY: -300 }));
    fakeLayout(scroller, 2000, 100);
    expect(jump.hidden).toBe(false);
    jump.click();
    expect(scroller.scrollTop).toBe(2000);
    expect(jump.hidden).toBe(true);
  });
});

describe("light and dark", () => {
  it("follows JupyterLab's theme attribute unless a choice is made", async () => {
    const box = document.createElement("div");
    document.body.append(box);
    document.body.dataset.jpThemeLight = "false";
    let choice: "system" | "light" = "system";
    const watcher = new SchemeWatcher(document, () => choice);
    watcher.add(box);
    expect(box.classList.contains("nbc-dark")).toBe(true);
    document.body.dataset.jpThemeLight = "true";
    await new Promise((r) => setTimeout(r, 0)); // MutationObserver callbacks run as a microtask
    expect(box.classList.contains("nbc-dark")).toBe(false);
    document.body.dataset.jpThemeLight = "false";
    choice = "light";
    watcher.apply();
    expect(box.classList.contains("nbc-dark")).toBe(false);
    watcher.dispose();
  });
});

function servedPage() {
  document.body.innerHTML = `<div id="nbchat-root"></div><script type="application/json" id="nbchat-page"></script>`;
  document.getElementById("nbchat-page")!.textContent = JSON.stringify({ wsUrl: "/ws", apiUrl: "/nbchat/api",
    blobUrl: "/nbchat/blobs/", rootPath: "/", user: null, auth: { enabled: false }, threadId: null, mode: "chat", name: "Demo" });
  const { fetch } = fakeFetch({ "GET /nbchat/api/threads": () => json({ pageInfo: { hasNextPage: false, endCursor: null }, data: [] }) });
  const transports: FakeTransport[] = [];
  const handle = boot(document, { fetch, makeTransport: () => { const t = new FakeTransport(); transports.push(t); return t; } })!;
  return { handle, transports, page: document.querySelector<HTMLElement>(".nbc-page")! };
}

describe("served page chrome", () => {
  it("the theme toggle switches light and dark at once and remembers the choice", () => {
    const { handle, page } = servedPage();
    const toggle = () => page.querySelector<HTMLButtonElement>(".nbc-theme-btn")!;
    expect(page.classList.contains("nbc-dark")).toBe(false);
    expect(toggle().getAttribute("aria-label")).toBe("Dark theme");
    toggle().click();
    expect(page.classList.contains("nbc-dark")).toBe(true);
    expect(page.querySelector(".nbc-root")?.classList.contains("nbc-dark")).toBe(true);
    expect(toggle().getAttribute("aria-label")).toBe("Light theme");
    expect(localStorage.getItem("nbchat-theme")).toBe("dark");
    handle.dispose();
  });

  it("the open drawer has a backdrop; a tap on it or Escape closes the drawer", () => {
    const { handle, page } = servedPage();
    const toggle = page.querySelector<HTMLButtonElement>('button[aria-label="Toggle sidebar"]')!;
    toggle.click();
    expect(page.dataset.sidebar).toBe("open");
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    page.querySelector<HTMLElement>(".nbc-drawer-backdrop")!.click();
    expect(page.dataset.sidebar).toBe("closed");
    toggle.click();
    page.querySelector<HTMLElement>(".nbc-sidebar input")!.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(page.dataset.sidebar).toBe("closed");
    expect(document.activeElement).toBe(toggle);
    handle.dispose();
  });
});
