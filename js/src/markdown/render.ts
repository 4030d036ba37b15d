/**
 * Markdown → DOM, incrementally while a message streams.
 *
 * The source is split into top-level blocks by marked's lexer. Blocks before the last
 * blank line that has content after it are *committed*: rendered once (highlighted),
 * appended to the container and never touched again. Only the rest — the growing tail —
 * is re-lexed and re-rendered, at most once per animation frame. So the DOM work per
 * frame is O(tail), not O(message). When the stream ends, everything is committed.
 */
import { Marked, type Token } from "marked";
import type { Flushable, FrameScheduler } from "../frame";
import { escapeHtml, highlight } from "./highlight";
import { mathBlock, mathInline } from "./math";
import { sanitizeToFragment, trustedFragment } from "./sanitize";

export interface MarkdownOptions {
  /** Keep raw HTML from the source and skip sanitizing (author content + config opt-in). */
  allowHtml: boolean;
}

/** Stateless marked + KaTeX + highlight.js engine; one per options set. */
export class MarkdownEngine {
  private readonly marked: Marked;
  private highlightCode = true;

  constructor(readonly options: MarkdownOptions) {
    const self = this;
    this.marked = new Marked({
      gfm: true,
      breaks: false,
      extensions: [mathBlock, mathInline],
      renderer: {
        code({ text, lang }) {
          const language = (lang ?? "").trim().split(/\s+/)[0] ?? "";
          const body = self.highlightCode ? highlight(text, language) : escapeHtml(text);
          const label = language ? `<span class="nbc-code-lang">${escapeHtml(language)}</span>` : "<span></span>";
          return (
            `<div class="nbc-code" data-lang="${escapeHtml(language)}"><div class="nbc-code-bar">${label}` +
            `<button type="button" class="nbc-copy" aria-label="Copy code">Copy</button></div>` +
            `<pre><code class="hljs${language ? ` language-${escapeHtml(language)}` : ""}">${body}</code></pre></div>`
          );
        },
        html({ text }) {
          return self.options.allowHtml ? text : escapeHtml(text);
        },
      },
    });
  }

  lex(src: string): Token[] {
    return this.marked.lexer(src);
  }

  /** HTML for tokens; `highlight` off while a tail streams (highlighting runs once at commit). */
  toHtml(tokens: Token[], highlightCode = true): string {
    this.highlightCode = highlightCode;
    try {
      return this.marked.parser(tokens);
    } finally {
      this.highlightCode = true;
    }
  }

  toFragment(tokens: Token[], highlightCode = true): DocumentFragment {
    const html = this.toHtml(tokens, highlightCode);
    return this.options.allowHtml ? trustedFragment(html) : sanitizeToFragment(html);
  }

  /** One-shot render of a whole document (non-streaming content). */
  render(src: string): DocumentFragment {
    return this.toFragment(this.lex(normalize(src)));
  }
}

export function normalize(src: string): string {
  return src.replace(/\r\n?/g, "\n");
}

/**
 * How many leading tokens are final: everything up to the last `space` token (a blank
 * line) that has non-space content after it. Paragraphs can still turn into setext
 * headings or tables, and lists can continue, so nothing later than that is final.
 */
export function committableCount(tokens: readonly Token[]): number {
  let seenContent = false;
  for (let i = tokens.length - 1; i >= 0; i -= 1) {
    const type = tokens[i]?.type;
    if (type === "space") {
      if (seenContent) return i + 1;
    } else {
      seenContent = true;
    }
  }
  return 0;
}

export interface RenderStats {
  /** Tail renders performed (one per flushed frame). */
  tailRenders: number;
  /** Blocks committed so far. */
  committedBlocks: number;
  /** Characters of source lexed, summed over renders (O(tail) per frame, not O(message)). */
  lexedChars: number;
}

/** A live markdown view for one growing text (a streaming message or step output). */
export class IncrementalMarkdown implements Flushable {
  readonly el: HTMLElement;
  readonly stats: RenderStats = { tailRenders: 0, committedBlocks: 0, lexedChars: 0 };
  private readonly tailEl: HTMLElement;
  private source = "";
  private committedLength = 0;
  private streaming = false;
  private rendered = true;
  private notBefore = 0;
  /** Runs after each render (element-name links in messages). */
  afterRender: ((root: HTMLElement) => void) | null = null;

  constructor(
    private readonly engine: MarkdownEngine,
    private readonly scheduler: FrameScheduler | null,
    className = "nbc-md",
  ) {
    this.el = document.createElement("div");
    this.el.className = className;
    this.tailEl = document.createElement("div");
    this.tailEl.className = "nbc-md-tail";
    this.el.append(this.tailEl);
  }

  get text(): string {
    return this.source;
  }

  /** Set the full current text; renders on the next frame (or now without a scheduler). */
  set(text: string, streaming: boolean): void {
    const src = normalize(text);
    if (src === this.source && streaming === this.streaming && this.rendered) return;
    if (!src.startsWith(this.source.slice(0, this.committedLength))) this.reset();
    this.source = src;
    this.streaming = streaming;
    this.rendered = false;
    if (this.scheduler) this.scheduler.schedule(this);
    else this.flush();
  }

  flush(): void {
    if (this.rendered) return;
    const now = performance.now();
    if (this.streaming && now < this.notBefore && this.scheduler) {
      this.scheduler.schedule(this); // throttled: a slow tail render skips frames
      return;
    }
    const started = now;
    const rest = this.source.slice(this.committedLength);
    const tokens = this.engine.lex(rest);
    this.stats.lexedChars += rest.length;
    let commit = this.streaming ? committableCount(tokens) : tokens.length;
    let committedRaw = "";
    for (let i = 0; i < commit; i += 1) committedRaw += tokens[i]?.raw ?? "";
    if (!rest.startsWith(committedRaw)) commit = 0; // lexer rewrote the source: stay safe
    if (commit > 0) {
      const blocks = tokens.slice(0, commit);
      this.el.insertBefore(this.engine.toFragment(blocks, true), this.tailEl);
      this.committedLength += committedRaw.length;
      this.stats.committedBlocks += blocks.filter((t) => t.type !== "space").length;
    }
    const tail = tokens.slice(commit);
    this.tailEl.replaceChildren(tail.length ? this.engine.toFragment(tail, !this.streaming) : "");
    this.stats.tailRenders += 1;
    this.rendered = true;
    this.afterRender?.(this.el);
    const took = performance.now() - started;
    this.notBefore = took > 12 ? performance.now() + took * 2 : 0;
  }

  private reset(): void {
    for (const child of [...this.el.childNodes]) if (child !== this.tailEl) child.remove();
    this.tailEl.replaceChildren();
    this.committedLength = 0;
  }
}
