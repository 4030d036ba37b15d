import { describe, expect, it, vi } from "vitest";
import type { ElementDict } from "../src/protocol";
import { WELCOME, numbered, step } from "./fixtures";
import { setupApp } from "./ui12-setup";

function element(id: string, over: Partial<ElementDict> = {}): ElementDict {
  return { id, type: "text", name: "notes", display: "inline", forId: "a1", threadId: "t1", url: null, objectKey: null,
    mime: "text/plain", content: "hello", size: null, language: null, page: null, autoPlay: null, props: {},
    ...over } as ElementDict;
}

describe("side panel", () => {
  it("the element's name in the message opens the panel; Close and Escape close it", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME,
      { type: "step", step: step("a1", { output: "See the **spec** for details" }) },
      { type: "element", element: element("e1", { name: "spec", display: "side", content: "# Spec body" }) }]));
    flush();
    const side = el.querySelector<HTMLElement>(".nbc-side")!;
    expect(side.hidden).toBe(true);
    const link = el.querySelector<HTMLButtonElement>('.nbc-msg-body button.nbc-element-link[data-element-id="e1"]');
    expect(link?.textContent).toBe("spec");
    // the fallback link under the message hides because the text names the element
    expect(el.querySelector<HTMLElement>('.nbc-msg-elements .nbc-element-link')?.hidden).toBe(true);
    link!.click();
    expect(side.hidden).toBe(false);
    expect(side.getAttribute("aria-label")).toBe("spec");
    expect(side.querySelector("h1")?.textContent).toBe("Spec body");
    side.querySelector<HTMLButtonElement>('button[aria-label="Close side panel"]')!.click();
    expect(side.hidden).toBe(true);
    link!.click();
    side.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(side.hidden).toBe(true);
  });

  it("a name not in the text still gets a link under the message; a PDF renders sandboxed", async () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1", { output: "Here it is" }) },
      { type: "element", element: element("p1", { type: "pdf", name: "report.pdf", display: "side", objectKey: "k1", content: null }) }]));
    flush();
    const link = el.querySelector<HTMLButtonElement>('.nbc-msg-elements .nbc-element-link')!;
    expect(link.hidden).toBe(false);
    link.click();
    const frame = await vi.waitFor(() => el.querySelector<HTMLIFrameElement>(".nbc-side iframe") ?? Promise.reject(new Error("no iframe yet")));
    expect(frame?.getAttribute("src")).toBe("/files/k1");
    expect(frame?.getAttribute("sandbox")).toBe("");
  });

  it("a page element opens a full view", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1", { output: "x" }) },
      { type: "element", element: element("e2", { name: "big", display: "page" }) }]));
    flush();
    el.querySelector<HTMLButtonElement>('.nbc-element-link[data-element-id="e2"]')!.click();
    const overlay = el.querySelector<HTMLElement>(".nbc-overlay")!;
    expect(overlay.hidden).toBe(false);
    expect(overlay.querySelector(".nbc-page-view")?.textContent).toContain("hello");
  });
});

describe("task list", () => {
  const content = (status: string, tasks: { title: string; status: string; forId?: string | null }[]) =>
    JSON.stringify({ status, tasks });

  it("renders as a task list with status icons and links, and re-renders on send", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1", { output: "Working" }) },
      { type: "element", element: element("tl", { type: "tasklist", name: "tasklist", display: "side", forId: null,
        content: content("Running...", [{ title: "Fetch", status: "done", forId: "a1" }, { title: "Parse", status: "running" },
          { title: "Store", status: "ready" }]) }) }]));
    flush();
    const panel = el.querySelector<HTMLElement>('aside[aria-label="Task list"]')!;
    expect(panel.hidden).toBe(false);
    expect(el.querySelector(".nbc-chip")).toBeNull();
    expect(panel.querySelector("h2")?.textContent).toBe("Tasks");
    expect(panel.querySelector('[role="status"]')?.textContent).toBe("Running...");
    const rows = [...panel.querySelectorAll<HTMLElement>("li.nbc-task")];
    expect(rows.map((r) => r.dataset.status)).toEqual(["done", "running", "ready"]);
    expect(rows[0]?.querySelector("svg path")).not.toBeNull(); // the done check mark
    expect(rows[1]?.querySelector(".nbc-spinner")).not.toBeNull();
    expect(rows[0]?.textContent).toContain("(Done)");
    const link = rows[0]!.querySelector<HTMLAnchorElement>("a")!;
    link.click();
    expect(el.querySelector('[data-id="a1"]')?.classList.contains("nbc-highlight")).toBe(true);
    transport.deliver(numbered([{ type: "element", element: element("tl", { type: "tasklist", name: "tasklist",
      display: "side", forId: null, content: content("Failed", [{ title: "Fetch", status: "done" }, { title: "Parse", status: "failed" }]) }) }], 4));
    flush();
    const again = [...el.querySelectorAll<HTMLElement>('aside[aria-label="Task list"] li.nbc-task')];
    expect(again.map((r) => r.dataset.status)).toEqual(["done", "failed"]);
    expect(el.querySelector('aside[aria-label="Task list"] [role="status"]')?.textContent).toBe("Failed");
    transport.deliver(numbered([{ type: "element_delete", id: "tl" }], 5));
    expect(el.querySelector<HTMLElement>('aside[aria-label="Task list"]')?.hidden).toBe(true);
  });
});
