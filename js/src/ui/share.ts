/**
 * The read-only share view: `GET {apiUrl}/threads/{id}` rendered with the chat's own
 * message and step views (a ChatApp in read-only mode fed one welcome + snapshot), under
 * a banner. No composer, feedback, actions or WebSocket.
 */
import { type ApiClient, ApiError, type Thread } from "../api";
import type { ElementDict, ServerEvent, StepDict } from "../protocol";
import type { Transport } from "../transports/types";
import { ChatApp } from "./app";
import { siblingUrl } from "./plotly";
import { servedAvatarUrl } from "./avatar";
import { h } from "./dom";
import { threadTitle } from "./history";
import { t } from "./i18n";

export interface ShareConfig {
  threadId: string | null;
  rootPath: string;
  name: string;
  auth: { enabled: boolean; loginUrl?: string | null };
}

/** A transport that never connects: the share view has no live session. */
class NoTransport implements Transport {
  readonly status = "closed" as const;
  send(): void { /* read-only */ }
  onBatch(): () => void { return () => undefined; }
  onStatus(): () => void { return () => undefined; }
  close(): void { /* nothing to close */ }
}

export function normalizeStep(s: Partial<StepDict>, threadId: string): StepDict {
  return {
    id: String(s.id), name: s.name ?? "", type: s.type ?? "assistant_message", threadId: s.threadId ?? threadId,
    parentId: s.parentId ?? null, input: s.input ?? "", output: s.output ?? "", isError: Boolean(s.isError),
    createdAt: s.createdAt ?? "", start: s.start ?? null, end: s.end ?? s.start ?? s.createdAt ?? null,
    metadata: s.metadata ?? {}, tags: s.tags ?? null, language: s.language ?? null, generation: s.generation ?? null,
    showInput: s.showInput ?? false, defaultOpen: Boolean(s.defaultOpen), streaming: false, waitForAnswer: false,
    cancelled: s.cancelled, command: s.command ?? null, feedback: null,
  };
}

function normalizeElement(e: Partial<ElementDict>, threadId: string): ElementDict {
  return {
    id: String(e.id), threadId: e.threadId ?? threadId, type: e.type ?? "file", name: e.name ?? "", display: e.display ?? "inline",
    forId: e.forId ?? null, mime: e.mime ?? null, size: e.size ?? null, language: e.language ?? null, url: e.url ?? null,
    objectKey: null, content: e.content ?? null, props: e.props, page: e.page ?? null, autoPlay: e.autoPlay ?? null,
    playerConfig: e.playerConfig ?? null,
  };
}

/** The events that show a stored thread: welcome, snapshot, thread (seq 1, 2, 3). */
export function threadEvents(thread: Thread, appName: string): ServerEvent[] {
  const steps = (thread.steps ?? []).map((s) => normalizeStep(s, thread.id));
  const elements = (thread.elements ?? []).map((e) => normalizeElement(e, thread.id));
  return [
    { type: "welcome", seq: 1, protocolVersion: 1, sessionId: "", threadId: thread.id, user: null,
      config: { ui: { name: appName, cot: "full", feedback: false }, features: { feedback: false } },
      chatProfiles: [], chatProfile: null, starters: [], starterCategories: [], commands: [],
      modes: [], httpUploads: false },
    { type: "snapshot", seq: 2, steps, elements, actions: [], ask: null, settings: null, running: false },
    { type: "thread", seq: 3, id: thread.id, name: thread.name },
  ];
}

export interface ShareView {
  readonly el: HTMLElement;
  /** Settles when the thread is shown or the error is. */
  readonly ready: Promise<void>;
  app: ChatApp | null;
  dispose(): void;
}

export function renderShare(container: HTMLElement, config: ShareConfig, api: Pick<ApiClient, "getThread">): ShareView {
  const body = h("div", { class: "nbc-share-body" }, h("p", { class: "nbc-muted", role: "status" }, t("common.status.loading")));
  const el = h("div", { class: "nbc-page nbc-share-page" },
    h("div", { class: "nbc-share-banner", role: "note", "aria-label": t("share.label") },
      h("strong", {}, t("share.banner")),
      h("span", { class: "nbc-muted" }, ` · ${config.name} · `),
      h("a", { href: config.rootPath }, t("share.startOwn"))),
    body);
  container.replaceChildren(el);
  const view: ShareView = {
    el, app: null, ready: Promise.resolve(),
    dispose() { view.app?.dispose(); el.remove(); },
  };
  const fail = (message: string, extra?: Node): void => {
    body.replaceChildren(h("div", { class: "nbc-share-error", role: "alert" }, h("p", {}, message), extra ?? null));
  };
  if (!config.threadId) {
    fail(t("share.notShared"));
    return view;
  }
  (view as { ready: Promise<void> }).ready = api.getThread(config.threadId).then((thread) => {
    body.replaceChildren();
    document.title = `${threadTitle(thread)} · ${config.name}`;
    const app = new ChatApp(body, { transport: new NoTransport(), resolveFile: async () => "",
      avatarUrl: (author) => servedAvatarUrl(config.rootPath, author),
      scriptUrl: async (name) => siblingUrl(name) }, { readOnly: true });
    app.receive(threadEvents(thread, config.name));
    app.scheduler.flushNow();
    view.app = app;
  }, (err: unknown) => {
    if (err instanceof ApiError && err.status === 404) fail(t("share.notShared"));
    else if (err instanceof ApiError && err.status === 401) {
      fail(t("share.signIn"), config.auth.loginUrl
        ? h("a", { href: `${config.auth.loginUrl}`, class: "nbc-btn" }, t("navigation.user.menu.login")) : undefined);
    } else fail(t("share.couldNotLoad", { error: err instanceof Error ? err.message : String(err) }));
  });
  return view;
}
