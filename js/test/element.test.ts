import { describe, expect, it, vi } from "vitest";
import { safeElementUrl } from "../src/markdown/sanitize";
import { type ElementContext, elementUrl, renderElement } from "../src/ui/element";
import { MarkdownEngine } from "../src/markdown/render";
import type { ElementDict } from "../src/protocol";

const BASE = "https://chat.example/app/";

function element(over: Partial<ElementDict>): ElementDict {
  return { id: "e1", type: "image", name: "x", display: "inline", forId: null, url: null,
    objectKey: null, ...over } as ElementDict;
}

const ctx = (url = "blob:https://chat.example/1"): ElementContext => ({
  resolveFile: () => Promise.resolve(url),
  engine: new MarkdownEngine({ allowHtml: false }),
  openImage: () => undefined,
});

describe("element URLs are checked as the browser parses them", () => {
  it.each([
    "java\tscript:alert(1)", "\x01javascript:alert(1)", "java\nscript:alert(1)",
    " JavaScript:alert(1)", "\x00javascript:alert(1)", "vbscript:msgbox(1)",
    "file:///etc/passwd", "data:text/html,<script>alert(1)</script>",
  ])("refuses %j", (url) => {
    expect(safeElementUrl(url, true, BASE)).toBeNull();
    expect(safeElementUrl(url, false, BASE)).toBeNull();
  });

  it("allows http(s), blob: and relative URLs (resolved against the page to check them)", () => {
    expect(safeElementUrl("https://cdn.example/a.png", false, BASE)).toBe("https://cdn.example/a.png");
    expect(safeElementUrl("files/a.png", false, BASE)).toBe("files/a.png");
    expect(safeElementUrl("javascript-notes/a.png", false, BASE)).toBe("javascript-notes/a.png");
    expect(safeElementUrl("blob:https://chat.example/123", false, BASE)).toBe("blob:https://chat.example/123");
  });

  it("allows data: only for media, and only with a safe media type", () => {
    expect(safeElementUrl("data:image/png;base64,iVBO", true, BASE)).toBe("data:image/png;base64,iVBO");
    expect(safeElementUrl("data:audio/mpeg;base64,AA", true, BASE)).not.toBeNull();
    expect(safeElementUrl("data:image/png;base64,iVBO", false, BASE)).toBeNull();
    for (const url of ["data:image/svg+xml,<svg onload=alert(1)>", "data:,hello",
      "data:application/pdf;base64,JVBE", "DATA:TEXT/HTML;base64,PHNjcmlwdD4="]) {
      expect(safeElementUrl(url, true, BASE)).toBeNull();
    }
  });

  it("gives an element no URL when the author's is unsafe", async () => {
    expect(await elementUrl(element({ url: "java\tscript:alert(1)" }), ctx())).toBeNull();
    expect(await elementUrl(element({ type: "file", url: "data:image/png;base64,AA" }), ctx())).toBeNull();
    expect(await elementUrl(element({ url: "data:image/png;base64,AA" }), ctx())).toBe("data:image/png;base64,AA");
  });

  it("renders a file link for a \\x01javascript: URL as no content, not as a link", async () => {
    const box = renderElement(element({ type: "file", name: "f", url: "\x01javascript:alert(1)" }), ctx());
    await vi.waitFor(() => expect(box.classList.contains("nbc-loading")).toBe(false));
    expect(box.querySelector("a")).toBeNull();
    expect(box.textContent).toContain("no content");
  });
});

describe("PDF elements", () => {
  it("are iframes sandboxed without allow-scripts", async () => {
    const box = renderElement(element({ type: "pdf", name: "r.pdf", objectKey: "k", page: 2 }), ctx());
    await vi.waitFor(() => expect(box.classList.contains("nbc-loading")).toBe(false));
    const frame = box.querySelector("iframe");
    expect(frame).not.toBeNull();
    expect(frame?.getAttribute("sandbox")).toBe("");
    expect(frame?.getAttribute("src")).toBe("blob:https://chat.example/1#page=2");
    expect(box.querySelector("a")?.getAttribute("href")).toBe("blob:https://chat.example/1");
  });
});
