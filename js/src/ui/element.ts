/** Elements attached to messages: images, files, media, tables, plots, task lists, custom. */
import type { ElementDict } from "../protocol";
import type { MarkdownEngine } from "../markdown/render";
import { highlight } from "../markdown/highlight";
import { safeElementUrl } from "../markdown/sanitize";
import { type CustomElementContext, renderCustomElement } from "../custom/host";
import { h } from "./dom";
import { type ScriptUrl, renderPlotly } from "./plotly";
import { renderTaskList } from "./tasklist";
import { t } from "./i18n";

export interface ElementContext {
  resolveFile(objectKey: string, element: ElementDict): Promise<string>;
  engine: MarkdownEngine;
  openImage(src: string, alt: string): void;
  /** Where separately built bundles are (plotly.js); none: figures show as JSON. */
  scriptUrl?: ScriptUrl;
  /** Runs custom elements' code (custom/host.ts); none: their props show as a list. */
  custom?: CustomElementContext;
}

/** Element types whose URL is shown as media (where a data: URL of a media type may be). */
const MEDIA = new Set(["image", "pyplot", "audio", "video"]);

/** URL of an element's bytes: the author's URL (if safe, see safeElementUrl), or the
 * host's URL for server-held bytes. */
export async function elementUrl(el: ElementDict, ctx: ElementContext): Promise<string | null> {
  if (el.url) return safeElementUrl(el.url, MEDIA.has(el.type));
  if (el.objectKey) return ctx.resolveFile(el.objectKey, el);
  return null;
}

function parseJson(text: string | null | undefined): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Fill `target` once the URL is known; shows the error instead if resolving fails. */
function withUrl(el: ElementDict, ctx: ElementContext, target: HTMLElement,
  build: (url: string) => Node): HTMLElement {
  target.classList.add("nbc-loading");
  elementUrl(el, ctx).then(
    (url) => {
      target.classList.remove("nbc-loading");
      target.replaceChildren(url ? build(url) : h("span", { class: "nbc-muted" }, `${el.name}: no content`));
    },
    (err: unknown) => {
      target.classList.remove("nbc-loading");
      target.replaceChildren(h("span", { class: "nbc-error-text" }, `${el.name}: ${String(err)}`));
    },
  );
  return target;
}

const MAX_TABLE_ROWS = 500;

/** A table from {columns, data} or pandas' "split" orient {columns, index, data}. */
export function dataframeTable(content: unknown): HTMLElement {
  const obj = (content ?? {}) as { columns?: unknown[]; index?: unknown[]; data?: unknown[][] };
  const columns = Array.isArray(obj.columns) ? obj.columns : [];
  const rows = Array.isArray(obj.data) ? obj.data : [];
  const index = Array.isArray(obj.index) ? obj.index : null;
  const cell = (v: unknown): string => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const head = h("tr", {}, index ? h("th", { scope: "col" }, "") : null,
    ...columns.map((c) => h("th", { scope: "col" }, cell(c))));
  const body = h("tbody");
  rows.slice(0, MAX_TABLE_ROWS).forEach((row, i) => {
    body.append(h("tr", {}, index ? h("th", { scope: "row" }, cell(index[i])) : null,
      ...(Array.isArray(row) ? row : [row]).map((v) => h("td", {}, cell(v)))));
  });
  const note = rows.length > MAX_TABLE_ROWS
    ? h("div", { class: "nbc-muted" }, t("chat.elements.rowsShown", { shown: MAX_TABLE_ROWS, total: rows.length })) : null;
  return h("div", { class: "nbc-dataframe" }, h("table", {}, h("thead", {}, head), body), note);
}

/** Custom elements without a host to run their code: their props as text. */
export function propsView(props: Record<string, unknown> | undefined): HTMLElement {
  const dl = h("dl", { class: "nbc-props" });
  for (const [key, value] of Object.entries(props ?? {})) {
    dl.append(h("dt", {}, key), h("dd", {}, typeof value === "string" ? value : JSON.stringify(value, null, 1)));
  }
  return dl;
}

/** The element's content, built for inline display (side/page reuse it at full size). */
export function renderElement(el: ElementDict, ctx: ElementContext): HTMLElement {
  const box = h("div", { class: `nbc-element nbc-el-${el.type}`, "data-element-id": el.id });
  switch (el.type) {
    case "image":
    case "pyplot":
      return withUrl(el, ctx, box, (url) => {
        const img = h("img", { src: url, alt: el.name, loading: "lazy", tabindex: "0", role: "button",
          "aria-label": t("chat.elements.enlarge", { name: el.name }) });
        const open = (): void => ctx.openImage(url, el.name);
        img.addEventListener("click", open);
        img.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
        return img;
      });
    case "text": {
      if (el.language) {
        const code = h("code", { class: "hljs" });
        code.innerHTML = highlight(el.content ?? "", el.language);
        box.append(h("div", { class: "nbc-el-title" }, el.name), h("pre", {}, code));
      } else {
        const md = h("div", { class: "nbc-md" });
        md.append(ctx.engine.render(el.content ?? ""));
        box.append(h("div", { class: "nbc-el-title" }, el.name), md);
      }
      return box;
    }
    case "file":
      return withUrl(el, ctx, box, (url) => h("a", { href: url, download: el.name, class: "nbc-file",
        target: "_blank", rel: "noopener noreferrer" }, h("span", { "aria-hidden": "true" }, "⭳ "), el.name,
      el.size ? h("span", { class: "nbc-muted" }, ` ${el.size}`) : null));
    case "pdf":
      // Sandboxed without allow-scripts in every host: a PDF (or whatever is served at
      // its URL) never runs script in this page's origin. The link is for viewers that
      // refuse to render in a sandbox.
      return withUrl(el, ctx, box, (url) => h("div", {},
        h("iframe", { src: el.page ? `${url}#page=${el.page}` : url, title: el.name, class: "nbc-pdf",
          sandbox: "" }),
        h("a", { href: url, download: el.name, class: "nbc-file", target: "_blank", rel: "noopener noreferrer" },
          h("span", { "aria-hidden": "true" }, "⭳ "), el.name)));
    case "audio":
      return withUrl(el, ctx, box, (url) => h("figure", {}, h("figcaption", {}, el.name),
        h("audio", { src: url, controls: true, autoplay: Boolean(el.autoPlay) })));
    case "video":
      return withUrl(el, ctx, box, (url) => h("video", { src: url, controls: true, autoplay: Boolean(el.autoPlay),
        title: el.name, class: "nbc-video" }));
    case "dataframe":
      box.append(dataframeTable(parseJson(el.content)));
      return box;
    case "plotly":
      box.append(renderPlotly(el, { scriptUrl: ctx.scriptUrl, fetchText: async (e) => {
        const url = await elementUrl(e, ctx);
        return url ? (await fetch(url)).text() : null;
      } }));
      return box;
    case "tasklist":
      box.append(renderTaskList(el, () => undefined)); // no message list to link into here
      return box;
    case "custom":
      if (ctx.custom) return renderCustomElement(el, box, ctx.custom);
      box.append(h("div", { class: "nbc-el-title" }, el.name), propsView(el.props));
      return box;
    default:
      box.append(h("div", { class: "nbc-el-title" }, el.name), propsView(el.props));
      return box;
  }
}
