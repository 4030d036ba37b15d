import { describe, expect, it } from "vitest";
import type { ElementDict, SidebarEvent } from "../src/protocol";
import { nextSidebar } from "../src/store/reducer";
import { WELCOME, numbered, step } from "./fixtures";
import { setupApp } from "./ui12-setup";

function text(id: string, content: string): ElementDict {
  return { id, type: "text", name: id, display: "side", forId: null, threadId: "t1", url: null, objectKey: null,
    mime: "text/plain", content, size: null, language: null } as ElementDict;
}

const ev = (over: Partial<SidebarEvent>): SidebarEvent => ({ type: "sidebar", seq: 1, ...over });

describe("nextSidebar (Chainlit's ElementSidebar rules)", () => {
  it("a title opens it, elements fill it, an empty list closes it", () => {
    let s = nextSidebar(null, ev({ title: "Sources" }));
    expect(s).toEqual({ title: "Sources", elements: [], key: null });
    s = nextSidebar(s, ev({ elements: [text("a", "A")], key: null }));
    expect(s?.title).toBe("Sources");
    expect(s?.elements.map((e) => e.id)).toEqual(["a"]);
    expect(nextSidebar(s, ev({ elements: [], key: null }))).toBeNull();
  });

  it("the same non-null key keeps the shown elements; another key or none replaces them", () => {
    const first = nextSidebar(null, ev({ elements: [text("a", "A")], key: "k" }));
    expect(nextSidebar(first, ev({ elements: [text("b", "B")], key: "k" }))?.elements).toBe(first?.elements);
    expect(nextSidebar(first, ev({ elements: [text("b", "B")], key: "other" }))?.elements[0]?.id).toBe("b");
    const unkeyed = nextSidebar(null, ev({ elements: [text("a", "A")], key: null }));
    expect(nextSidebar(unkeyed, ev({ elements: [text("b", "B")], key: null }))?.elements[0]?.id).toBe("b");
  });
});

describe("the element sidebar in the chat", () => {
  it("opens beside the chat with the title and every element, and closes on an empty list", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1", { output: "hi" }) },
      { type: "sidebar", elements: [text("n1", "first note"), text("n2", "second note")], key: null },
      { type: "sidebar", title: "Notes" }]));
    flush();
    const side = el.querySelector<HTMLElement>(".nbc-side")!;
    expect(side.hidden).toBe(false);
    expect(side.getAttribute("aria-label")).toBe("Notes");
    expect(side.querySelector(".nbc-side-title")?.textContent).toBe("Notes");
    expect(side.querySelector(".nbc-side-body")?.textContent).toContain("first note");
    expect(side.querySelector(".nbc-side-body")?.textContent).toContain("second note");
    transport.deliver(numbered([{ type: "sidebar", elements: [], key: null }], 5));
    expect(side.hidden).toBe(true);
  });

  it("a snapshot brings the open sidebar back", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME, { type: "snapshot", steps: [], elements: [], actions: [], ask: null,
      settings: null, running: false, sidebar: { title: "Kept", elements: [text("n1", "still here")], key: null } }]));
    flush();
    const side = el.querySelector<HTMLElement>(".nbc-side")!;
    expect(side.hidden).toBe(false);
    expect(side.textContent).toContain("still here");
  });
});
