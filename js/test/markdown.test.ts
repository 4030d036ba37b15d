import { describe, expect, it } from "vitest";
import { FrameScheduler } from "../src/frame";
import { IncrementalMarkdown, MarkdownEngine, committableCount } from "../src/markdown/render";

const safe = new MarkdownEngine({ allowHtml: false });
const html = (frag: DocumentFragment): string => {
  const div = document.createElement("div");
  div.append(frag);
  return div.innerHTML;
};

describe("sanitizing", () => {
  it("escapes raw HTML by default", () => {
    const out = html(safe.render("hi <script>alert(1)</script> <b>x</b>"));
    expect(out).not.toContain("<script");
    expect(out).not.toContain("<b>");
    expect(out).toContain("&lt;b&gt;");
  });

  it("drops event handlers and javascript: URLs", () => {
    const div = document.createElement("div");
    div.append(safe.render('[click](javascript:alert(1)) ![x](y" onerror="alert(1)) [a](JaVaScRiPt:x)'));
    expect(div.innerHTML).not.toMatch(/javascript:/i);
    for (const el of div.querySelectorAll("*")) {
      expect([...el.attributes].filter((a) => a.name.startsWith("on"))).toEqual([]);
    }
  });

  it("keeps raw HTML only when allowed, and still never runs on* handlers when sanitized", () => {
    const unsafe = new MarkdownEngine({ allowHtml: true });
    expect(html(unsafe.render("<b>bold</b>"))).toContain("<b>bold</b>");
    expect(html(safe.render('<img src=x onerror="alert(1)">'))).not.toMatch(/<img/);
  });

  it("opens links in a new tab with rel=noopener", () => {
    const div = document.createElement("div");
    div.append(safe.render("[site](https://example.com)"));
    const a = div.querySelector("a");
    expect(a?.getAttribute("target")).toBe("_blank");
    expect(a?.getAttribute("rel")).toContain("noopener");
  });
});

describe("rendering", () => {
  it("renders GFM tables, headings and lists", () => {
    const out = html(safe.render("# Title\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n"));
    expect(out).toContain("<h1");
    expect(out).toContain("<li>a</li>");
    expect(out).toContain("<table>");
    expect(out).toContain("<td>2</td>");
  });

  it("highlights fenced code and adds a copy button", () => {
    const div = document.createElement("div");
    div.append(safe.render("```python\ndef f():\n    return 1\n```\n"));
    expect(div.querySelector(".nbc-code button.nbc-copy")?.textContent).toBe("Copy");
    expect(div.querySelector("code .hljs-keyword")?.textContent).toBe("def");
  });

  it("renders LaTeX with KaTeX, inline and display, and leaves prices alone", () => {
    const div = document.createElement("div");
    div.append(safe.render("Euler: $e^{i\\pi}+1=0$\n\n$$\\int_0^1 x\\,dx$$\n\nIt costs $5 and $10."));
    expect(div.querySelectorAll(".katex").length).toBe(2);
    expect(div.querySelector(".katex-display")).not.toBeNull();
    expect(div.textContent).toContain("costs $5 and $10");
  });
});

describe("incremental rendering", () => {
  it("commits only blocks before the last blank line that has content after it", () => {
    const t = (src: string) => committableCount(safe.lex(src));
    expect(t("para")).toBe(0);
    expect(t("para\n\n")).toBe(0);
    expect(t("para\n\nnext")).toBe(2);
    expect(t("# h\n\npara\n\n- li")).toBe(4);
  });

  it("keeps committed blocks and re-renders only the tail", () => {
    const md = new IncrementalMarkdown(safe, null);
    let text = "";
    const firstBlocks: Node[] = [];
    for (let i = 0; i < 50; i += 1) {
      text += `Paragraph number ${i} with some words.\n\n`;
      md.set(text, true);
      if (i === 5) firstBlocks.push(...md.el.querySelectorAll("p"));
    }
    // The first paragraphs are the very same DOM nodes: never re-rendered.
    const now = [...md.el.querySelectorAll("p")];
    expect(now.slice(0, firstBlocks.length)).toEqual(firstBlocks);
    // Lexed characters stay O(tail) per update, far below O(n²).
    expect(md.stats.lexedChars).toBeLessThan(text.length * 3);
    md.set(text, false);
    expect(md.el.querySelectorAll("p")).toHaveLength(50);
  });

  it("ends with the same DOM as a one-shot render", () => {
    const doc = "# Title\n\nIntro with **bold** and `code`.\n\n```js\nconst a = 1;\n```\n\n" +
      "| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two\n\nSetext\n---\n\nDone $x^2$.";
    const md = new IncrementalMarkdown(safe, null);
    for (let i = 1; i <= doc.length; i += 3) md.set(doc.slice(0, i), true);
    md.set(doc, false);
    const oneShot = document.createElement("div");
    oneShot.append(safe.render(doc));
    const tail = md.el.querySelector(".nbc-md-tail");
    tail?.remove();
    expect(md.el.innerHTML).toBe(oneShot.innerHTML);
  });

  it("does not highlight the streaming tail, and highlights it once the stream ends", () => {
    const md = new IncrementalMarkdown(safe, null);
    md.set("```python\ndef f(): pass", true);
    expect(md.el.querySelector(".hljs-keyword")).toBeNull();
    md.set("```python\ndef f(): pass\n```", false);
    expect(md.el.querySelector(".hljs-keyword")?.textContent).toBe("def");
  });

  it("renders at most once per frame however many updates arrive", () => {
    const frames: (() => void)[] = [];
    const scheduler = new FrameScheduler((cb) => frames.push(cb));
    const md = new IncrementalMarkdown(safe, scheduler);
    for (let i = 0; i < 100; i += 1) md.set("word ".repeat(i + 1), true);
    expect(md.stats.tailRenders).toBe(0);
    expect(frames).toHaveLength(1);
    frames.shift()?.();
    expect(md.stats.tailRenders).toBe(1);
    expect(md.el.textContent?.trim()).toBe("word ".repeat(100).trim());
  });

  it("starts over when the text is replaced rather than extended", () => {
    const md = new IncrementalMarkdown(safe, null);
    md.set("first\n\nsecond\n\nthird", true);
    md.set("other", false);
    expect(md.el.textContent?.trim()).toBe("other");
  });
});
