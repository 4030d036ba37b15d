/**
 * anywidget entry: `export default { render({ model, el }) }`.
 *
 * Python → JS: msg:custom `{events: [...]}` (a batch of server events), and host replies.
 * JS → Python: one protocol event per `model.send(event, undefined, buffers?)`;
 * `upload_chunk` carries its bytes as buffers[0]. Host messages (host_messages.ts):
 * `file_request` asks for an element's bytes when the model has no `files_url` trait,
 * `asset_request` for a bundle (plotly.js), and `reset` replaces the session (history
 * panel), followed by `hello` (with `resumeThreadId` to resume a stored thread).
 * Every render sends `hello` first (with `lastSeq` when this view saw events before),
 * so a freshly displayed view gets a snapshot.
 *
 * In JupyterLab / Notebook 7 the page has `#jupyter-config-data` with `baseUrl`; when
 * `{baseUrl}nbchat/api/openapi.json` answers (the server extension), the header gets a
 * "History" toggle with the history list. Elsewhere (VS Code, Colab) it stays hidden.
 */
import css from "nbchat:css";
import frameRuntime from "nbchat:frame-runtime";
import { ApiClient, type FetchLike } from "./api";
import { injectCss, mount } from "./host";
import { answerUnembedded } from "./embedding";
import { type CommModel, CommTransport } from "./transports/comm";
import type { Host } from "./transports/types";
import type { ChatApp } from "./ui/app";
import { h } from "./ui/dom";
import { HistoryList } from "./ui/history";
import { bind, t } from "./ui/i18n";
import { menuIcon } from "./ui/icons";

interface RenderProps {
  model: CommModel;
  el: HTMLElement;
}

/** How long a reset waits for the new session before showing the old one again. */
export const RESET_TIMEOUT_MS = 8000;

function makeHost(model: CommModel, transport: CommTransport): Host {
  const blobUrls = new Set<string>();
  return {
    transport,
    async resolveFile(objectKey) {
      const base = model.get("files_url");
      if (typeof base === "string" && base) return `${base}${encodeURIComponent(objectKey)}`;
      const url = URL.createObjectURL(await transport.fetchFile(objectKey));
      blobUrls.add(url);
      return url;
    },
    // anywidget's module has no URL of its own (it is loaded from a string), so a sibling
    // file cannot be imported by path: the kernel sends the bytes over the comm instead.
    async scriptUrl(name) {
      return URL.createObjectURL(new Blob([await transport.fetchAsset(name)], { type: "text/javascript" }));
    },
    customElements: {
      async code(name) {
        return { code: await (await transport.fetchElementCode(name)).text() };
      },
      frameScript: { code: frameRuntime },
    },
    releaseFile(url) {
      if (blobUrls.delete(url)) URL.revokeObjectURL(url);
    },
  };
}

export interface JupyterServer {
  baseUrl: string;
  token: string | null;
}

/** `baseUrl` (and `token`) from JupyterLab's / Notebook 7's page config, or null. */
export function jupyterServer(doc: Document = document): JupyterServer | null {
  const script = doc.getElementById("jupyter-config-data");
  if (!script?.textContent) return null;
  try {
    const data = JSON.parse(script.textContent) as { baseUrl?: unknown; token?: unknown };
    if (typeof data.baseUrl !== "string") return null;
    const baseUrl = data.baseUrl.endsWith("/") ? data.baseUrl : `${data.baseUrl}/`;
    return { baseUrl, token: typeof data.token === "string" && data.token ? data.token : null };
  } catch {
    return null;
  }
}

const probes = new Map<string, Promise<boolean>>();

/** Whether the nbchat server extension answers at `{baseUrl}nbchat/api/openapi.json` (cached per URL). */
export function probeExtension(baseUrl: string, fetchImpl: FetchLike = (u, i) => globalThis.fetch(u, i)): Promise<boolean> {
  const url = `${baseUrl}nbchat/api/openapi.json`;
  let probe = probes.get(url);
  if (!probe) {
    probe = fetchImpl(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(async (res) => res.ok && typeof ((await res.json()) as { openapi?: unknown })?.openapi === "string")
      .catch(() => false);
    probes.set(url, probe);
  }
  return probe;
}

/** Forget cached probes (tests). */
export function clearProbes(): void {
  probes.clear();
}

/** The History toggle and panel in the widget header; list, search, open, new chat. */
export function attachHistory(app: ChatApp, transport: CommTransport, api: ApiClient): HistoryList {
  const panelId = `nbc-hp-${Math.random().toString(36).slice(2, 8)}`;
  let resetTimer: ReturnType<typeof setTimeout> | null = null;
  const toggle = h("button", { type: "button", class: "nbc-icon-btn nbc-history-toggle", "aria-expanded": "false",
    "aria-controls": panelId, title: "" }, menuIcon(), bind(h("span", {}), "text", "threadHistory.label"));
  bind(toggle, "label", "threadHistory.label");
  const reset = (threadId: string | null): void => {
    setOpen(false);
    transport.sendHost(threadId ? { host: "reset", resumeThreadId: threadId } : { host: "reset" });
    app.reset(threadId);
    list.setActive(threadId);
    if (resetTimer) clearTimeout(resetTimer);
    resetTimer = setTimeout(() => {
      if (!app.resetting) return;
      app.cancelReset();
      app.notify("error", t("threadHistory.cannotSwitch"));
    }, RESET_TIMEOUT_MS);
  };
  const list: HistoryList = new HistoryList({
    api,
    onOpen: (t) => reset(t.id),
    onNew: () => reset(null),
  });
  const panel = h("div", { class: "nbc-history-panel", id: panelId, hidden: true }, list.el);
  const setOpen = (open: boolean): void => {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) {
      list.setActive(app.state.threadId);
      void list.reload();
      list.focusSearch();
    }
  };
  toggle.addEventListener("click", () => setOpen(panel.hidden));
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); setOpen(false); toggle.focus(); } });
  app.headerEl.prepend(toggle);
  app.mainEl.prepend(panel);
  return list;
}

function render({ model, el }: RenderProps): () => void {
  injectCss(css, el.ownerDocument);
  const transport = new CommTransport(model);
  const host = makeHost(model, transport);
  const height = model.get("height");
  const app = mount(el, host, {
    height: typeof height === "number" ? height : undefined,
    onEvent: (event, chat) => {
      // No page embeds a notebook's widget: a CopilotFunction gets its null at once.
      answerUnembedded(event, (answer) => transport.send(answer));
      // A fork of this chat opens in this widget, as the History panel opens a chat.
      if (event.type !== "forked") return;
      const forkId = event.threadId;
      queueMicrotask(() => {
        transport.sendHost({ host: "reset", resumeThreadId: forkId });
        chat.reset(forkId);
      });
    },
  });
  app.sendHello();
  let history: HistoryList | null = null;
  let disposed = false;
  const server = jupyterServer(el.ownerDocument);
  if (server) {
    void probeExtension(server.baseUrl).then((ok) => {
      if (!ok || disposed) return;
      const store = model.get("history_store");
      const api = new ApiClient({ baseUrl: `${server.baseUrl}nbchat/api`, token: server.token,
        query: typeof store === "string" && store ? { store } : undefined });
      history = attachHistory(app, transport, api);
      app.setUploadApi(api); // big files go over HTTP, not through the kernel comm
    });
  }
  return () => {
    disposed = true;
    history?.dispose();
    app.dispose();
    transport.close();
  };
}

export default { render };
