/**
 * The chat app: applies server batches to the store and patches the DOM for exactly
 * the events received (no whole-list diff). Tokens only touch their step's markdown
 * view, which renders its tail once per frame.
 */
import type { ApiClient } from "../api";
import { FrameScheduler } from "../frame";
import { MarkdownEngine } from "../markdown/render";
import { type ClientEvent, type ServerEvent, isMessageStep } from "../protocol";
import * as act from "../store/actions";
import { reduce } from "../store/reducer";
import { SeqTracker, filterBatch, newSessionAt } from "../store/seq";
import { type ChatState, anyTaskRunning, configValue, initialState } from "../store/state";
import type { Host } from "../transports/types";
import { closeNotice } from "./connection";
import { askDisables, renderAsk } from "./ask";
import { type CommandSpec, Composer } from "./composer";
import { type ModeSpec, ModePicker } from "./modes";
import { UserEnvForm } from "./user_env";
import { McpPanel } from "./mcp";
import type { ViewContext } from "./context";
import { pushProps, settleCall } from "../custom/host";
import { Conversation } from "./conversation";
import { copyCodeOnClick, h } from "./dom";
import { retryMessage, retryableReply } from "./edit";
import { type ElementContext, renderElement } from "./element";
import { SettingsPanel } from "./settings";
import { SidePanel } from "./sidepanel";
import { TaskListPanel } from "./tasklist";
import { type UploadSpec, Uploader } from "./upload";
import { bind, t } from "./i18n";
import { settingsIcon } from "./icons";
import { ScrollFollower } from "./scroll";
import { WelcomeView } from "./welcome";
import type { SchemeChoice, SchemeWatcher } from "./theme";
import { Appearance } from "./appearance";
import { Overlay, toast } from "./overlay";

const RESYNC_RETRY_MS = 3000;

export interface AppOptions {
  /** Initial height in px of the chat (the user can resize it). */
  height?: number;
  scheduler?: FrameScheduler;
  /** Sent in `hello` so a fresh session resumes this stored thread (updated by `thread` events). */
  resumeThreadId?: string | null;
  /** A read-only view (share page): no composer, feedback, actions, asks or settings. */
  readOnly?: boolean;
  /** Called after each applied server event (the page follows `thread` events). */
  onEvent?: (event: ServerEvent, app: ChatApp) => void;
  /** Light, dark or the system's (the page's toggle); default: Lab's theme or the OS. */
  scheme?: () => SchemeChoice;
  /** The app's logo for the empty chat's hero (the page serves public/). */
  logoUrl?: () => string;
  /** The server ended the login session (close code 4401): the page goes to its login. */
  onSignedOut?: () => void;
}

export class ChatApp {
  readonly root: HTMLElement;
  state: ChatState = initialState();
  readonly seq = new SeqTracker();
  readonly scheduler: FrameScheduler;
  private safeEngine = new MarkdownEngine({ allowHtml: false });
  private authorEngine = this.safeEngine;
  private readonly conversation: Conversation;
  private readonly scroller: HTMLElement;
  private readonly welcome: WelcomeView;
  private readonly follower: ScrollFollower;
  private readonly globalActions = h("div", { class: "nbc-actions nbc-global-actions" });
  private readonly askEl = h("div", { class: "nbc-askbar" });
  private readonly side = new SidePanel();
  private readonly tasks = new TaskListPanel((id) => this.goToStep(id));
  private readonly overlay = new Overlay();
  private readonly notices = h("div", { class: "nbc-notices", role: "status", "aria-live": "polite" });
  private readonly title = h("span", { class: "nbc-title" });
  private readonly profileSelect = bind(h("select", { class: "nbc-input nbc-profile", hidden: true }), "label", "chat.profile");
  private readonly settingsBtn = bind(h("button", { type: "button", class: "nbc-icon-btn nbc-settings-btn", title: "",
    hidden: true }, settingsIcon()), "label", "chat.settings.open");
  private readonly settings: SettingsPanel;
  private readonly composer: Composer;
  private readonly modes = new ModePicker();
  private readonly envForm = new UserEnvForm((env) => this.send(act.userEnv(env)));
  private readonly mcp = new McpPanel((event) => this.send(event));
  private readonly uploader: Uploader;
  private lastResync = -Infinity;
  private unsubscribe: (() => void)[] = [];
  private readonly viewCtx: ViewContext;
  private readonly elementCtx: ElementContext;
  readonly headerEl: HTMLElement;
  private readonly appearance: Appearance;
  readonly mainEl: HTMLElement;
  resumeThreadId: string | null;
  private readonly readOnly: boolean;
  /** After `reset`, events are dropped until a welcome from another session arrives. */
  private ignoreSession: string | null = null;

  constructor(container: HTMLElement, private readonly host: Host, options: AppOptions = {}) {
    this.scheduler = options.scheduler ?? new FrameScheduler();
    this.resumeThreadId = options.resumeThreadId ?? null;
    this.readOnly = Boolean(options.readOnly);
    this.viewCtx = {
      scheduler: this.scheduler,
      engineFor: (step) => (step.type === "user_message" ? this.safeEngine : this.authorEngine),
      send: (ev) => this.send(ev),
      // No config key turns feedback off: it is offered in every chat but a share view.
      feedbackEnabled: () => !this.readOnly,
      resolveFile: (key, el) => this.host.resolveFile(key, el),
      openImage: (src, alt) => this.overlay.open(h("img", { src, alt, class: "nbc-enlarged" })),
      editEnabled: () => !this.readOnly && configValue(this.state, "features.edit_message") !== false,
      retry: (id) => this.retry(id),
      forkEnabled: () => !this.readOnly && this.state.welcome?.forks === true,
      avatarUrl: (author) => this.host.avatarUrl?.(author) ?? null,
      appName: () => String(configValue(this.state, "ui.name") ?? "Assistant"),
    };
    const app = this;
    this.elementCtx = {
      resolveFile: (key, el) => this.host.resolveFile(key, el),
      get engine(): MarkdownEngine { return app.authorEngine; },
      openImage: (src, alt) => this.viewCtx.openImage(src, alt),
      scriptUrl: host.scriptUrl ? (name) => host.scriptUrl!(name) : undefined,
      custom: host.customElements && { ...host.customElements, send: (ev) => this.send(ev) },
    };
    this.conversation = new Conversation(this.viewCtx, this.elementCtx, this.globalActions, {
      state: () => this.state,
      send: (ev) => this.send(ev),
      showElement: (id, display, opener) => this.showElement(id, display, opener),
      showTaskList: (el) => this.tasks.show(el),
      elementRemoved: (id) => { this.side.remove(id); this.tasks.remove(id); },
    });
    this.uploader = new Uploader((ev, buffers) => this.host.transport.send(ev, buffers));
    this.composer = new Composer({
      submit: (text, files, command) => void this.submit(text, files, command),
      stop: () => this.send(act.stop()),
    });
    this.settings = new SettingsPanel((values) => this.send(act.settingsUpdate(values)),
      (values) => this.send(act.settingsEdit(values)));
    this.settingsBtn.addEventListener("click", () => this.settings.toggle());
    this.profileSelect.addEventListener("change", () => this.switchProfile(this.profileSelect.value));
    this.composer.addTool(this.settingsBtn);
    this.welcome = new WelcomeView((message, command) => this.send(act.userMessage(message, { command })),
      () => this.authorEngine, options.logoUrl);
    this.scroller = bind(h("div", { class: "nbc-scroll", role: "log" }, this.conversation.el), "label", "chat.conversation");
    this.follower = new ScrollFollower(this.scroller, this.scheduler);
    this.headerEl = h("div", { class: "nbc-header" }, this.title, this.profileSelect);
    this.mainEl = h("div", { class: "nbc-main" }, this.scroller, this.follower.jump, this.tasks.el, this.side.el);
    this.root = h("div", { class: `nbc-root nbc-cot-full${this.readOnly ? " nbc-readonly" : ""}`,
      "data-connection": host.transport.status }, this.headerEl,
    this.welcome.hero, this.mainEl, this.settings.el, this.notices, this.globalActions, this.askEl, this.envForm.el,
    this.mcp.el, this.modes.el, this.composer.el, this.welcome.dock, this.overlay.el);
    if (options.height) this.root.style.height = `${options.height}px`;
    if (this.readOnly) {
      for (const el of [this.composer.el, this.modes.el, this.askEl, this.globalActions, this.settings.el]) el.hidden = true;
    }
    this.onEvent = options.onEvent;
    this.root.addEventListener("click", copyCodeOnClick);
    this.root.addEventListener("keydown", (e) => { if (e.key === "Escape") { this.overlay.close(); this.settings.close(); this.side.close(); } });
    container.append(this.root);
    this.appearance = new Appearance(this.root, () => this.state, options.scheme,
      () => { this.composer.relabel(); if (this.state.welcome) this.welcome.render(this.state); });


    this.unsubscribe.push(host.transport.onBatch((events) => this.receive(events)));
    this.unsubscribe.push(host.transport.onStatus((status) => {
      this.root.dataset.connection = status;
      if (status === "open") this.sendHello();
      const notice = closeNotice(status, host.transport.lastClose);
      if (notice === "signed_out" && options.onSignedOut) options.onSignedOut();
      else if (notice) this.toast("error", notice === "signed_out" ? t("connection.signedOut") : notice);
    }));
    this.updateEmpty();
  }

  private readonly onEvent: AppOptions["onEvent"];

  /** Theme and language again from the welcome config (after the page's language menu). */
  refreshAppearance(): void {
    if (this.state.welcome) this.appearance.apply(this.state);
  }

  /** Light or dark (the page's toggle calls `scheme.apply()` after a change). */
  get scheme(): SchemeWatcher {
    return this.appearance.scheme;
  }

  /** Send the handshake: a fresh view gets a snapshot, a known one a replay. The session
   * id lets a WebSocket reconnect reattach to the same live chat (ignored over the comm). */
  sendHello(extra: { chatProfile?: string | null } = {}): void {
    if (this.readOnly) return;
    this.send(act.hello({ sessionId: this.state.welcome?.sessionId, lastSeq: this.seq.last,
      chatProfile: extra.chatProfile, resumeThreadId: this.resumeThreadId }));
  }

  /** Start over with a fresh session (the widget's history panel): clear the view, drop events
   * until a welcome of another session arrives, then say hello (resuming `resumeThreadId`
   * when given). The host must already have replaced the session. */
  reset(resumeThreadId: string | null): void {
    this.ignoreSession = this.state.welcome?.sessionId ?? "";
    this.resumeThreadId = resumeThreadId;
    this.clearView();
    this.welcome.render(this.state);
    this.updateEmpty();
    this.send(act.hello({ resumeThreadId }));
  }

  private clearView(): void {
    this.seq.reset(); this.state = initialState(); this.title.textContent = ""; this.rebuild();
  }

  send(event: ClientEvent): void {
    this.host.transport.send(event);
  }

  /** True after `reset` until the new session's welcome arrives. */
  get resetting(): boolean {
    return this.ignoreSession !== null;
  }

  /** Give up waiting for a new session (the host did not reset): show the current one again. */
  cancelReset(): void {
    if (this.ignoreSession === null) return;
    this.ignoreSession = null;
    this.resumeThreadId = null;
    this.sendHello();
  }

  /** Show a new thread name in the header (after a rename through the REST API). */
  setThreadName(name: string): void {
    this.state = { ...this.state, threadName: name };
    this.title.textContent = name;
  }

  /** Prefill the composer (the served page's `?prompt=`). */
  prefill(text: string): void {
    this.composer.setText(text);
    this.composer.focus();
  }

  /** A transient notice in the chat (level: info, success, warning or error). */
  notify(level: string, message: string): void {
    this.toast(level, message);
  }

  /** Apply one batch from the transport. */
  receive(events: readonly ServerEvent[]): void {
    if (this.ignoreSession !== null) {
      const old = this.ignoreSession;
      const start = events.findIndex((e) => e.type === "welcome" && e.sessionId !== old);
      if (start < 0) return;
      this.ignoreSession = null;
      events = events.slice(start);
    }
    const fresh = newSessionAt(events, this.state.welcome?.sessionId); // old one gone: start over
    if (fresh >= 0) { this.clearView(); events = events.slice(fresh); }
    const { apply, gap } = filterBatch(this.seq, events);
    for (const event of apply) {
      const prev = this.state;
      this.state = reduce(prev, event);
      try {
        this.patch(event, prev);
      } catch (err) {
        console.error("nbchat: could not display event", event.type, err);
      }
      if (this.onEvent) {
        try {
          this.onEvent(event, this);
        } catch (err) {
          console.error("nbchat: event listener failed", err);
        }
      }
    }
    if (gap && performance.now() - this.lastResync > RESYNC_RETRY_MS) {
      this.lastResync = performance.now();
      this.sendHello();
    }
    this.updateEmpty();
    if (apply.some((e) => e.type !== "token")) this.markLastReply();
    this.follower.afterRender();
  }

  /** The REST API that takes upload bodies over HTTP (null: uploads go as events). */
  setUploadApi(api: ApiClient | null): void {
    this.uploader.setHttp(api ? (ticket, file, onProgress) => api.putUpload(ticket, file, onProgress) : null);
  }

  dispose(): void {
    for (const off of this.unsubscribe) off();
    this.appearance.dispose();
    this.root.remove();
  }

  // ------------------------------------------------------------------ event → DOM

  private patch(event: ServerEvent, prev: ChatState): void {
    switch (event.type) {
      case "welcome":
        this.uploader.setServerHttp(event.httpUploads === true);
        return this.applyWelcome();
      case "snapshot": return this.rebuild();
      case "step": {
        const step = this.state.steps[event.step.id];
        if (step) this.conversation.upsertStep(step);
        return;
      }
      case "step_delete": return this.conversation.removeGone(prev, this.state);
      case "token": {
        const step = this.state.steps[event.id];
        if (step) this.conversation.setOutput(step);
        return;
      }
      case "element": return this.conversation.upsertElement(event.element);
      case "element_delete": return this.conversation.removeElement(event.id);
      case "sidebar": return this.showSidebar();
      case "call_action_result": return settleCall(event);
      case "action": return this.conversation.upsertAction(event.action);
      case "action_delete": return this.conversation.removeAction(event.id);
      case "ask":
      case "ask_cancel":
        return this.renderAskState();
      case "task_start":
      case "task_end":
        return this.showRunning();
      case "settings": return this.applySettings();
      case "commands": return this.composer.setCommands(this.state.commands as unknown as CommandSpec[]);
      case "modes": return this.modes.set(this.state.modes as unknown as ModeSpec[]);
      case "feedback": {
        const step = this.state.steps[event.stepId];
        if (step) this.conversation.updateStep(step);
        return;
      }
      case "thread":
        this.resumeThreadId = event.id;
        this.title.textContent = event.name ?? "";
        return;
      case "upload_ticket":
        this.uploader.ticket(event.uploadId, event.ticket);
        return;
      case "upload_done":
        this.uploader.done(event.uploadId, event.fileId);
        return;
      case "mcp_status": return this.mcp.update(this.state.mcpServers, event, (m) => this.toast("error", m));
      case "notice":
      case "error":
        if (event.type === "error" && event.code === "missing_env") {
          const names = configValue(this.state, "project.user_env");
          return this.envForm.missing(Array.isArray(names) ? names.map(String) : []);
        }
        if (event.type === "error" && event.code.startsWith("upload")) this.uploader.failAll(event.message);
        if (event.type === "error" && event.code === "store_unavailable") this.composer.restoreLastSent();
        this.toast(event.type === "error" ? "error" : event.level, event.message);
        return;
    }
  }

  private applyWelcome(): void {
    const cot = String(configValue(this.state, "ui.cot") ?? "full");
    this.root.classList.remove("nbc-cot-full", "nbc-cot-tool_call", "nbc-cot-hidden");
    this.root.classList.add(`nbc-cot-${["full", "tool_call", "hidden"].includes(cot) ? cot : "full"}`);
    this.appearance.apply(this.state);
    const allowHtml = configValue(this.state, "ui.unsafe_allow_html") === true;
    if (allowHtml !== this.authorEngine.options.allowHtml) {
      this.authorEngine = allowHtml ? new MarkdownEngine({ allowHtml: true }) : this.safeEngine;
    }
    const name = configValue(this.state, "ui.name");
    if (typeof name === "string" && !this.state.threadName) this.title.textContent = name;
    const up = configValue(this.state, "features.spontaneous_file_upload") as Record<string, unknown> | undefined;
    this.composer.setUpload(up && up.enabled ? {
      accept: (up.accept as UploadSpec["accept"]) ?? undefined,
      maxFiles: typeof up.max_files === "number" ? up.max_files : undefined,
      maxSizeMb: typeof up.max_size_mb === "number" ? up.max_size_mb : undefined,
    } : null);
    this.composer.setCommands(this.state.commands as unknown as CommandSpec[]);
    this.mcp.setAllowed(this.readOnly ? [] : configValue(this.state, "mcp.user_servers"));
    if (!this.readOnly) this.modes.set(this.state.modes as unknown as ModeSpec[]);
    const welcome = this.state.welcome;
    const profiles = welcome?.chatProfiles ?? [];
    this.profileSelect.hidden = profiles.length === 0;
    this.profileSelect.replaceChildren(...profiles.map((p) => {
      const pname = String(p.name ?? "");
      return h("option", { value: pname, selected: pname === welcome?.chatProfile,
        title: typeof p.markdown_description === "string" ? p.markdown_description : null },
      typeof p.display_name === "string" && p.display_name ? p.display_name : pname);
    }));
    this.welcome.render(this.state);
  }

  private rebuild(): void {
    this.side.close();
    this.showSidebar();
    this.tasks.clear();
    this.conversation.rebuild(this.state);
    this.renderAskState();
    this.applySettings();
    this.showRunning();
    this.follower.follow();
  }

  /** A custom element shown before keeps its frame and gets the new props. */
  private showSidebar(): void {
    this.side.setSidebar(this.state.sidebar, (el, prev) =>
      (prev && el.type === "custom" && pushProps(el) ? prev : renderElement(el, this.elementCtx)));
  }

  /** Stop and the running style stay while any callback runs, not only the last started. */
  private showRunning(): void {
    const running = anyTaskRunning(this.state);
    this.composer.setRunning(running);
    this.root.classList.toggle("nbc-running", running);
  }

  private showElement(id: string, display: string, opener?: HTMLElement): void {
    const el = this.state.elements[id];
    if (!el) return;
    if (display === "page") {
      // Chainlit opens a page element in a view of its own; here: a full-size overlay.
      const close = h("button", { type: "button", class: "nbc-icon-btn", "aria-label": t("common.actions.close") }, "×");
      close.addEventListener("click", () => this.overlay.close());
      this.overlay.open(h("div", { class: "nbc-panel nbc-page-view" }, h("div", { class: "nbc-row nbc-panel-head" },
        h("strong", {}, el.name), close), renderElement(el, this.elementCtx)), el.name);
      close.focus();
    } else {
      this.side.open(el, renderElement(el, this.elementCtx), opener ?? null);
    }
  }

  /** Retry shows on the last finished reply only (edit.ts). */
  private markLastReply(): void {
    this.conversation.markLastReply(this.state, retryableReply(this.state, this.viewCtx.editEnabled?.() === true));
  }

  private retry(replyId: string): void {
    const user = retryMessage(this.state, replyId);
    if (!user) return;
    this.follower.follow();
    this.send(act.editMessage(user.id, user.content));
  }

  /** A task's link: scroll its message into view and mark it briefly. */
  private goToStep(id: string): void {
    const target = [...this.conversation.el.querySelectorAll<HTMLElement>("[data-id]")].find((n) => n.dataset.id === id);
    if (!target) return;
    target.scrollIntoView?.({ block: "center" });
    target.classList.add("nbc-highlight");
    setTimeout(() => target.classList.remove("nbc-highlight"), 1500);
  }

  private renderAskState(): void {
    const ask = this.state.ask;
    const ui = ask ? renderAsk(ask, { send: (ev) => this.send(ev), uploader: this.uploader }) : null;
    this.askEl.replaceChildren(...(ui ? [ui] : []));
    this.composer.setDisabled(askDisables(ask));
    const prompt = ask?.kind === "text" ? this.state.steps[ask.stepId]?.output : undefined;
    this.composer.setTextAsk(ask?.kind === "text", prompt ? t("chat.input.answerPlaceholder") : undefined);
    if (ask?.kind === "text") this.composer.focus();
  }

  private applySettings(): void {
    const inputs = this.state.settings?.inputs ?? [];
    this.settings.setInputs(inputs);
    this.settingsBtn.hidden = inputs.length === 0;
  }

  private updateEmpty(): void {
    this.welcome.update(this.state, this.root, this.composer.el);
  }

  // ------------------------------------------------------------------ user intent

  private async submit(text: string, files: File[], command: string | null): Promise<void> {
    let fileIds: string[] = [];
    try {
      for (const f of files) fileIds.push(await this.uploader.upload(f));
    } catch (err) {
      this.toast("error", String(err instanceof Error ? err.message : err));
      fileIds = [];
      if (!text.trim()) return;
    }
    this.follower.follow();
    this.send(act.userMessage(text, { fileIds, command, modes: this.modes.chosen(),
      clientId: act.clientId("m") }));
  }

  private switchProfile(name: string): void {
    if (name === this.state.welcome?.chatProfile) return;
    this.seq.reset();
    this.state = initialState();
    this.rebuild();
    this.send(act.hello({ chatProfile: name }));
  }

  private toast(level: string, message: string): void {
    toast(this.notices, level, message);
  }
}
