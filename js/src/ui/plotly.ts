/**
 * Plotly figures. plotly.js (~4.7 MB) is its own bundle, `static/plotly.js`, imported only
 * when a plotly element arrives: the host says where it is (`Host.scriptUrl`): the page next
 * to page.js, the widget a `blob:` URL of the bytes sent over the comm. A page that already
 * has `window.Plotly` uses that. When loading fails the figure's JSON is shown instead.
 */
import type { ElementDict } from "../protocol";
import { h } from "./dom";
import { t } from "./i18n";

export interface PlotlyLike {
  newPlot(el: HTMLElement, data: unknown, layout?: unknown, config?: unknown): unknown;
}

export type ScriptUrl = (name: "plotly.js") => Promise<string>;

let loading: Promise<PlotlyLike> | null = null;

/** A bundle built next to this module's file (page.js → static/plotly.js). */
export function siblingUrl(name: string, base: string = import.meta.url): string {
  return new URL(`./${name}`, base).href;
}

/** plotly.js, imported once per page (a failure is retried by the next figure). */
export function loadPlotly(scriptUrl: ScriptUrl | undefined): Promise<PlotlyLike> {
  const existing = (globalThis as { Plotly?: PlotlyLike }).Plotly;
  if (existing) return Promise.resolve(existing);
  if (!scriptUrl) return Promise.reject(new Error("this host has no plotly.js bundle"));
  loading ??= scriptUrl("plotly.js")
    .then((url) => import(/* @vite-ignore */ url) as Promise<{ default?: PlotlyLike }>)
    .then((mod) => {
      const lib = mod.default ?? (globalThis as { Plotly?: PlotlyLike }).Plotly;
      if (!lib || typeof lib.newPlot !== "function") throw new Error("plotly.js bundle has no newPlot");
      return lib;
    });
  loading.catch(() => { loading = null; });
  return loading;
}

/** Forget the loaded module (tests). */
export function resetPlotly(): void {
  loading = null;
}

export interface PlotlyContext {
  scriptUrl?: ScriptUrl;
  /** The figure JSON when it is held as bytes (url/objectKey). */
  fetchText(el: ElementDict): Promise<string | null>;
}

function parseFigure(text: string | null): { data?: unknown; layout?: unknown } | null {
  if (!text) return null;
  try {
    const fig = JSON.parse(text) as unknown;
    return fig && typeof fig === "object" ? fig as { data?: unknown; layout?: unknown } : null;
  } catch {
    return null;
  }
}

export function renderPlotly(el: ElementDict, ctx: PlotlyContext): HTMLElement {
  const box = h("div", { class: "nbc-plotly", "aria-busy": "true" },
    h("div", { class: "nbc-muted" }, t("chat.elements.loadingFigure", { name: el.name })));
  const fallback = (text: string | null, why: string): void => {
    box.removeAttribute("aria-busy");
    box.replaceChildren(
      h("div", { class: "nbc-muted" }, t("chat.elements.figureFailed", { name: el.name, reason: why })),
      h("details", {}, h("summary", {}, t("chat.elements.figureJson")), h("pre", { class: "nbc-json" }, text ?? "")),
    );
  };
  const text = el.content ? Promise.resolve(el.content) : ctx.fetchText(el);
  text.then(async (json) => {
    const fig = parseFigure(json);
    if (!fig) return fallback(json, "no figure JSON");
    let lib: PlotlyLike;
    try {
      lib = await loadPlotly(ctx.scriptUrl);
    } catch (err) {
      return fallback(json, `plotly.js could not be loaded (${String(err instanceof Error ? err.message : err)})`);
    }
    const plot = h("div", { class: "nbc-plotly-plot" });
    box.replaceChildren(plot);
    box.removeAttribute("aria-busy");
    try {
      await lib.newPlot(plot, fig.data ?? [], fig.layout ?? {}, { responsive: true, displaylogo: false });
    } catch (err) {
      fallback(json, `could not draw (${String(err)})`);
    }
  }, (err: unknown) => fallback(null, String(err)));
  return box;
}
