/**
 * Served-page entry (`page.js`). Boots itself on load from the JSON the server renders:
 *
 *   <div id="nbchat-root"></div>
 *   <script type="application/json" id="nbchat-page">{"wsUrl": …, "apiUrl": …, …}</script>
 *   <script type="module" src="…/page.js"></script>
 *
 * `mode: "chat"`: history sidebar + chat (one WebSocket session per opened chat);
 * `mode: "share"`: the read-only view of a shared thread. `start()` stays for pages that
 * only want the chat: start(el, { wsUrl, filesUrl }).
 */
import css from "nbchat:css";
import { ApiClient, type FetchLike, readCookie } from "./api";
import { EmbeddingRelay } from "./embedding";
import { injectCss, mount } from "./host";
import type { ServerEvent } from "./protocol";
import type { Transport } from "./transports/types";
import { WebSocketTransport } from "./transports/websocket";
import type { ChatApp } from "./ui/app";
import { h, initials } from "./ui/dom";
import { HistoryList } from "./ui/history";
import { siblingUrl } from "./ui/plotly";
import { servedCustomElements } from "./custom/served";
import { servedAvatarUrl } from "./ui/avatar";
import { type ShareView, renderShare } from "./ui/share";
import { LOCALE_NAMES, bind, chooseLocale, currentLocale, isRtl, onLocaleChange, relabel, setLocale, storeLanguage,
  t } from "./ui/i18n";
import { menuIcon, moonIcon, sunIcon } from "./ui/icons";
import { type SchemeChoice, SchemeWatcher, type ThemeSpec, storeChoice, storedChoice, themeDefault } from "./ui/theme";

export interface PageOptions {
  wsUrl: string;
  filesUrl: string;
  height?: number;
  resumeThreadId?: string | null;
}

/** Just the chat over a WebSocket, element bytes from `filesUrl + encodeURIComponent(key)`. */
export function start(el: HTMLElement, options: PageOptions): ChatApp {
  injectCss(css, el.ownerDocument);
  const transport = new WebSocketTransport({ url: toWsUrl(options.wsUrl) });
  // The app sends hello (with lastSeq) on every "open" the transport reports.
  return mount(el, {
    transport,
    resolveFile: async (objectKey) => `${options.filesUrl}${encodeURIComponent(objectKey)}`,
  }, { height: options.height, resumeThreadId: options.resumeThreadId });
}

export interface PageUser {
  identifier: string;
  display_name?: string | null;
}

export interface PageConfig {
  wsUrl: string;
  apiUrl: string;
  blobUrl: string;
  rootPath: string;
  user: PageUser | null;
  auth: { enabled: boolean; logoutUrl?: string | null; loginUrl?: string | null };
  threadId: string | null;
  mode: "chat" | "share";
  name: string;
  /** `server.embed_origins`: the parent pages this page talks with (embedding.ts). */
  embedOrigins: string[];
  brand: PageBrand;
}

/** The app's look (nbchat.server.pages.Brand.to_page): URLs under the root, "" when unset. */
export interface PageBrand {
  logo: string;
  logoDark: string;
  theme: ThemeSpec | null;
  headerLinks: { name: string; url: string; icon_url?: string }[];
  language: string;
}

function parseBrand(raw: unknown): PageBrand {
  const b = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const str = (v: unknown): string => (typeof v === "string" ? v : "");
  const links = Array.isArray(b.headerLinks) ? b.headerLinks : [];
  return {
    logo: str(b.logo), logoDark: str(b.logoDark) || str(b.logo),
    theme: b.theme && typeof b.theme === "object" ? b.theme as ThemeSpec : null,
    headerLinks: links.filter((l): l is Record<string, unknown> => Boolean(l) && typeof l === "object")
      .map((l) => ({ name: str(l.name), url: str(l.url), icon_url: str(l.icon_url) }))
      .filter((l) => l.name && /^(https?:\/\/|\/)/.test(l.url)),
    language: str(b.language),
  };
}

/** Parse and normalise the page JSON; throws with a readable message when it is unusable. */
export function parsePageConfig(text: string): PageConfig {
  const raw = JSON.parse(text) as Partial<PageConfig> & Record<string, unknown>;
  if (!raw || typeof raw !== "object") throw new Error("nbchat: page config is not an object");
  const str = (v: unknown, d = ""): string => (typeof v === "string" ? v : d);
  const rootPath = withSlash(str(raw.rootPath, "/"));
  const auth = (raw.auth && typeof raw.auth === "object" ? raw.auth : {}) as PageConfig["auth"];
  const user = raw.user && typeof raw.user === "object" && typeof (raw.user as PageUser).identifier === "string"
    ? raw.user as PageUser : null;
  return {
    wsUrl: str(raw.wsUrl, `${rootPath}ws`),
    apiUrl: str(raw.apiUrl, `${rootPath}nbchat/api`).replace(/\/+$/, ""),
    blobUrl: withSlash(str(raw.blobUrl, `${rootPath}nbchat/blobs/`)),
    rootPath,
    user,
    auth: { enabled: Boolean(auth.enabled), logoutUrl: auth.logoutUrl ?? null, loginUrl: auth.loginUrl ?? null },
    threadId: typeof raw.threadId === "string" && raw.threadId ? raw.threadId : null,
    mode: raw.mode === "share" ? "share" : "chat",
    name: str(raw.name, "nbchat") || "nbchat",
    embedOrigins: Array.isArray(raw.embedOrigins) ? raw.embedOrigins.filter((o): o is string => typeof o === "string") : [],
    brand: parseBrand(raw.brand),
  };
}

function withSlash(path: string): string {
  return path.endsWith("/") ? path : `${path}/`;
}

/** A ws(s):// URL from a relative path or http(s) URL, against the page's location. */
export function toWsUrl(url: string, base: string = globalThis.location?.href ?? "http://localhost/"): string {
  if (/^wss?:\/\//i.test(url)) return url;
  const abs = new URL(url, base);
  abs.protocol = abs.protocol === "https:" ? "wss:" : "ws:";
  return abs.href;
}

export interface PageHandle {
  config: PageConfig;
  page?: ChatPage;
  share?: ShareView;
  dispose(): void;
}

/** Read `#nbchat-page` and mount into `#nbchat-root` (created when missing). */
export function boot(doc: Document = document,
  options: { makeTransport?: (url: string) => Transport; fetch?: FetchLike } = {}): PageHandle | null {
  const script = doc.getElementById("nbchat-page");
  if (!script) return null;
  let config: PageConfig;
  try {
    config = parsePageConfig(script.textContent ?? "");
  } catch (err) {
    console.error("nbchat: cannot read the page config", err);
    return null;
  }
  let root = doc.getElementById("nbchat-root");
  if (!root) {
    root = doc.createElement("div");
    root.id = "nbchat-root";
    doc.body.append(root);
  }
  if (root.dataset.nbchatBooted) return null;
  root.dataset.nbchatBooted = "1";
  injectCss(css, doc);
  // The language before anything is drawn; the welcome adds the app's own strings.
  setLocale(chooseLocale(config.brand.language));
  const api = new ApiClient({ baseUrl: config.apiUrl, doc, fetch: options.fetch });
  if (config.mode === "share") {
    const view = renderShare(root, config, api);
    // The app's look in the share view too: its theme, the visitor's scheme choice.
    const stored = storedChoice();
    const scheme = new SchemeWatcher(doc, () => (stored !== "system" ? stored : themeDefault(config.brand.theme)));
    scheme.setTheme(config.brand.theme);
    scheme.add(view.el);
    view.el.dir = isRtl(currentLocale()) ? "rtl" : "ltr";
    const dispose = view.dispose;
    view.dispose = () => { scheme.dispose(); dispose(); };
    return { config, share: view, dispose: () => view.dispose() };
  }
  const page = new ChatPage(root, config, api, options.makeTransport);
  return { config, page, dispose: () => page.dispose() };
}

/** The full page: history sidebar on the left, the open chat on the right. */
export class ChatPage {
  readonly el: HTMLElement;
  readonly history: HistoryList;
  app: ChatApp | null = null;
  activeThreadId: string | null = null;
  private transport: Transport | null = null;
  private readonly chatEl = h("div", { class: "nbc-chat" });
  private readonly onPop = (): void => this.followLocation();
  private threadSeen = false;
  private readonly cleanups: (() => void)[] = [];
  readonly embedding: EmbeddingRelay;
  private schemeChoice: SchemeChoice = "system";
  readonly scheme = new SchemeWatcher(document, () => this.schemeChoice);
  private readonly logo = h("img", { class: "nbc-brand-logo", alt: "", hidden: true });

  constructor(container: HTMLElement, readonly config: PageConfig, readonly api: ApiClient,
    private readonly makeTransport: (url: string) => Transport = (url) => new WebSocketTransport({ url }),
    parent?: { postMessage(message: unknown, targetOrigin: string): void } | null) {
    this.embedding = new EmbeddingRelay({ origins: config.embedOrigins, parent,
      send: (event) => this.transport?.send(event) });
    this.history = new HistoryList({
      api,
      manage: true,
      onOpen: (t) => { this.openThread(t.id); this.setSidebar(false); },
      onNew: () => { this.newChat(); this.setSidebar(false); },
      href: (id) => this.threadPath(id),
      shareUrl: (id) => new URL(`${config.rootPath}share/${encodeURIComponent(id)}`, location.href).href,
      onDeleted: (id) => { if (id === this.activeThreadId) this.newChat(); },
      onRenamed: (id, name) => {
        if (id !== this.activeThreadId) return;
        this.setTitle(name);
        this.app?.setThreadName(name);
      },
    });
    const toggle = bind(h("button", { type: "button", class: "nbc-icon-btn nbc-sidebar-toggle", "aria-expanded": "false" },
      menuIcon()), "label", "navigation.sidebar.toggle");
    toggle.addEventListener("click", () => this.setSidebar(this.el.dataset.sidebar !== "open"));
    // On a narrow screen the open drawer dims the chat; a tap on it closes the drawer.
    const backdrop = h("div", { class: "nbc-drawer-backdrop", "aria-hidden": "true" });
    backdrop.addEventListener("click", () => this.setSidebar(false));
    const sidebar = h("aside", { class: "nbc-sidebar" },
      h("div", { class: "nbc-brand" }, this.logo, h("span", { class: "nbc-brand-name" }, config.name)),
      this.history.el, this.languageMenu(), this.userMenu());
    this.el = h("div", { class: "nbc-page", "data-sidebar": "closed" }, sidebar, backdrop,
      h("main", { class: "nbc-page-main" }, toggle, this.chatEl));
    this.el.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.el.dataset.sidebar === "open") { this.setSidebar(false); toggle.focus(); }
    });
    // The user's toggle, else the app's ui.theme.default, else the system's scheme.
    const stored = storedChoice();
    this.schemeChoice = stored !== "system" ? stored : themeDefault(config.brand.theme);
    this.scheme.setTheme(config.brand.theme);
    this.scheme.add(this.el);
    this.showLogo();
    this.cleanups.push(onLocaleChange(() => this.showLocale()));
    this.showLocale();
    container.replaceChildren(this.el);
    window.addEventListener("popstate", this.onPop);
    this.openChat(config.threadId);
    // `?prompt=…` (as in Chainlit) fills the composer of the first chat; nothing is sent.
    const prompt = new URLSearchParams(location.search).get("prompt");
    if (prompt) this.app?.prefill(prompt);
    void this.history.reload();
  }

  threadPath(id: string): string {
    return `${this.config.rootPath}thread/${encodeURIComponent(id)}`;
  }

  /** Open a stored thread in a fresh session (the server replays it). */
  openThread(id: string): void {
    if (id === this.activeThreadId && this.app) return;
    this.navigate(this.threadPath(id));
    this.openChat(id);
  }

  newChat(): void {
    this.navigate(this.config.rootPath);
    this.openChat(null);
  }

  /** A new WebSocket session; `hello` carries `resumeThreadId` when a thread is given. */
  openChat(threadId: string | null): void {
    this.closeChat();
    this.embedding.reset();
    this.activeThreadId = threadId;
    this.threadSeen = false;
    this.history.setActive(threadId);
    this.setTitle(null);
    const transport = this.makeTransport(toWsUrl(this.config.wsUrl));
    this.transport = transport;
    const blobUrl = this.config.blobUrl;
    let app: ChatApp | null = null;
    app = mount(this.chatEl, {
      transport,
      resolveFile: async (objectKey) => {
        const sessionId = app?.state.welcome?.sessionId ?? "";
        return `${blobUrl}${encodeURIComponent(sessionId)}/${encodeURIComponent(objectKey)}`;
      },
      avatarUrl: (author) => servedAvatarUrl(this.config.rootPath, author),
      scriptUrl: async (name) => siblingUrl(name),
      customElements: servedCustomElements(this.config.rootPath),
    }, { resumeThreadId: threadId, onEvent: (event) => this.onEvent(event), scheme: () => this.schemeChoice,
      onSignedOut: () => this.signedOut(),
      logoUrl: () => (this.scheme.scheme === "dark" ? this.config.brand.logoDark : this.config.brand.logo) });
    app.headerEl.append(this.headerLinks(), this.themeToggle());
    app.setUploadApi(this.api); // upload bodies over HTTP, not WebSocket frames
    this.app = app;
    // The transport may already be open (a test double): say hello now then.
    if (transport.status === "open") app.sendHello();
  }

  /** Logged out (here or in another tab): to the login page, back here after signing in. */
  private signedOut(): void {
    const login = this.config.auth.loginUrl;
    if (!login) {
      this.app?.notify("error", t("connection.signedOut"));
      return;
    }
    const next = `${location.pathname}${location.search}`;
    location.assign(`${login}?next=${encodeURIComponent(next)}`);
  }

  private closeChat(): void {
    this.schemeButtons.clear();
    this.app?.dispose();
    this.transport?.close();
    this.app = null;
    this.transport = null;
  }

  private onEvent(event: ServerEvent): void {
    if (event.type === "welcome") this.embedding.connected();
    this.embedding.onServerEvent(event);
    if (event.type === "thread") {
      this.threadSeen = true;
      this.activeThreadId = event.id;
      const path = this.threadPath(event.id);
      if (location.pathname !== path) history.pushState({ nbchatThread: event.id }, "", path);
      this.history.touch(event.id, event.name);
      this.history.setActive(event.id);
      this.setTitle(event.name);
    } else if (event.type === "forked") {
      // Carry on in the fork: opened once this batch is done (it disposes this chat).
      const forkId = event.threadId;
      queueMicrotask(() => {
        this.openThread(forkId);
        void this.history.reload();
      });
    } else if (event.type === "step" && event.step.type === "user_message" && this.threadSeen && this.activeThreadId) {
      // new activity in the open thread moves it to the top
      this.history.touch(this.activeThreadId, null);
    }
  }

  private navigate(path: string): void {
    if (location.pathname !== path) history.pushState(null, "", path);
  }

  /** Back/forward: open what the URL names. */
  followLocation(): void {
    const root = this.config.rootPath;
    const path = location.pathname;
    const m = path.startsWith(`${root}thread/`) ? path.slice(root.length + "thread/".length) : null;
    if (m) {
      const id = decodeURIComponent(m.replace(/\/$/, ""));
      if (id !== this.activeThreadId) this.openChat(id);
    } else if (this.activeThreadId !== null || !this.app) {
      this.openChat(null);
    }
  }

  private setTitle(name: string | null): void {
    document.title = name ? `${name} · ${this.config.name}` : this.config.name;
  }

  private setSidebar(open: boolean): void {
    this.el.dataset.sidebar = open ? "open" : "closed";
    this.el.querySelector(".nbc-sidebar-toggle")?.setAttribute("aria-expanded", String(open));
  }

  /** Every label in the UI's language, laid out right to left for RTL languages. */
  private showLocale(): void {
    const tag = currentLocale();
    relabel(this.el);
    this.el.lang = tag;
    this.el.dir = isRtl(tag) ? "rtl" : "ltr";
    document.documentElement.lang = tag;
    const menu = this.el.querySelector<HTMLSelectElement>(".nbc-language");
    if (menu && tag in LOCALE_NAMES) menu.value = tag;
  }

  /** The language menu at the foot of the sidebar: switches at once, kept for next time. */
  private languageMenu(): HTMLElement {
    const select = bind(h("select", { class: "nbc-input nbc-language" },
      ...Object.entries(LOCALE_NAMES).map(([tag, name]) => h("option", { value: tag, lang: tag }, name))),
    "label", "navigation.language");
    select.addEventListener("change", () => {
      storeLanguage(select.value);
      setLocale(select.value);
      this.app?.refreshAppearance(); // the app's own strings for that language, if any
    });
    return h("div", { class: "nbc-language-row" }, select);
  }

  /** The app's logo for the current scheme (ui.logo / ui.logo_dark). */
  private showLogo(): void {
    const { logo, logoDark } = this.config.brand;
    const src = this.scheme.scheme === "dark" ? logoDark : logo;
    this.logo.hidden = !src;
    if (src && this.logo.getAttribute("src") !== src) this.logo.src = src;
  }

  /** `ui.header_links` in the chat header, opening in a new tab. */
  private headerLinks(): HTMLElement {
    return h("nav", { class: "nbc-header-links", "aria-label": t("navigation.links") }, ...this.config.brand.headerLinks.map((l) =>
      h("a", { class: "nbc-header-link", href: l.url, target: "_blank", rel: "noopener noreferrer" },
        l.icon_url ? h("img", { src: l.icon_url, alt: "", width: 16, height: 16 }) : null, l.name)));
  }

  /** The sun/moon button in the chat header: light ⇄ dark, kept for the next visit. */
  private themeToggle(): HTMLElement {
    const btn = h("button", { type: "button", class: "nbc-icon-btn nbc-theme-btn", title: "" });
    const show = (): void => {
      const dark = this.scheme.scheme === "dark";
      btn.replaceChildren(dark ? sunIcon() : moonIcon());
      bind(btn, "label", dark ? "navigation.theme.light" : "navigation.theme.dark");
    };
    btn.addEventListener("click", () => this.setScheme(this.scheme.scheme === "dark" ? "light" : "dark"));
    this.schemeButtons.add(show);
    show();
    return btn;
  }

  private readonly schemeButtons = new Set<() => void>();

  /** Light or dark at once (the page, the chat, the toggle's icon), no reload. */
  setScheme(choice: SchemeChoice): void {
    this.schemeChoice = choice;
    storeChoice(choice);
    this.scheme.apply();
    this.app?.scheme.apply();
    for (const show of this.schemeButtons) show();
    this.showLogo();
  }

  private userMenu(): HTMLElement | null {
    const { auth, user } = this.config;
    if (!auth.enabled) return null;
    if (!user) {
      return auth.loginUrl ? h("div", { class: "nbc-user" }, bind(h("a", { href: auth.loginUrl, class: "nbc-btn" }), "text", "navigation.user.menu.login")) : null;
    }
    const name = user.display_name || user.identifier;
    // Named by what it shows (the user's name), then what it does (read out, not shown).
    const button = h("button", { type: "button", class: "nbc-user-btn", "aria-haspopup": "menu", "aria-expanded": "false" },
      h("span", { class: "nbc-avatar", "aria-hidden": "true" }, initials(name)), h("span", { class: "nbc-user-name" }, name), " ",
      bind(h("span", { class: "nbc-offscreen" }), "text", "navigation.user.menu.label"));
    const xsrf = h("input", { type: "hidden", name: "_xsrf" });
    const form = h("form", { method: "post", action: auth.logoutUrl ?? `${this.config.rootPath}logout`, class: "nbc-logout" },
      xsrf, h("button", { type: "submit", role: "menuitem", class: "nbc-menu-item" }, t("navigation.user.menu.logout")));
    form.addEventListener("submit", () => { xsrf.value = readCookie("_xsrf") ?? ""; });
    const menu = h("div", { class: "nbc-menu", role: "menu", "aria-label": t("navigation.user.menu.label"), hidden: true }, form);
    const setOpen = (open: boolean): void => {
      menu.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      if (open) menu.querySelector<HTMLElement>("[role=menuitem]")?.focus();
    };
    button.addEventListener("click", () => setOpen(menu.hidden));
    const wrap = h("div", { class: "nbc-user" }, menu, button);
    wrap.addEventListener("keydown", (e) => { if (e.key === "Escape" && !menu.hidden) { e.stopPropagation(); setOpen(false); button.focus(); } });
    const outside = (e: Event): void => { if (!menu.hidden && !wrap.contains(e.target as Node)) setOpen(false); };
    document.addEventListener("click", outside);
    this.cleanups.push(() => document.removeEventListener("click", outside));
    return wrap;
  }

  dispose(): void {
    window.removeEventListener("popstate", this.onPop);
    this.embedding.dispose();
    this.scheme.dispose();
    for (const off of this.cleanups) off();
    this.closeChat();
    this.history.dispose();
    this.el.remove();
  }
}

if (typeof document !== "undefined") {
  const run = (): void => { if (document.getElementById("nbchat-page")) boot(document); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run, { once: true });
  else run();
}
