/**
 * The history list: threads grouped by last activity, full-text search (debounced),
 * cursor pagination on scroll, and (served page) rename / delete / share per thread.
 * Used full-height in the page's sidebar and as a panel in the notebook widget.
 */
import type { ApiClient, ThreadSummary } from "../api";
import { ApiError } from "../api";
import { copyText, flashCopied, h, parseTime } from "./dom";
import { bind, t as tr } from "./i18n";

export type GroupLabel = "Today" | "Yesterday" | "Previous 7 days" | "Older";
export const GROUP_ORDER: readonly GroupLabel[] = ["Today", "Yesterday", "Previous 7 days", "Older"];
/** The heading shown for each group, in the UI's language. */
const GROUP_KEYS: Record<GroupLabel, string> = { Today: "threadHistory.groups.today", Yesterday: "threadHistory.groups.yesterday",
  "Previous 7 days": "threadHistory.groups.previous7Days", Older: "threadHistory.groups.older" };

/** When a thread was last active: `updatedAt` when the server sends it, else `createdAt`. */
export function lastActivity(t: ThreadSummary): Date | null {
  return parseTime(t.updatedAt ?? null) ?? parseTime(t.createdAt);
}

/** The group of a date, by local calendar days relative to `now`. */
export function groupOf(date: Date | null, now: Date): GroupLabel {
  if (!date) return "Older";
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  if (date >= today) return "Today"; // includes a server clock slightly ahead
  const yesterday = new Date(today);
  yesterday.setDate(today.getDate() - 1);
  if (date >= yesterday) return "Yesterday";
  const week = new Date(today);
  week.setDate(today.getDate() - 7);
  return date >= week ? "Previous 7 days" : "Older";
}

/** Threads into the four groups (empty groups left out); order within a group is kept. */
export function groupThreads(threads: readonly ThreadSummary[], now: Date = new Date()):
  { label: GroupLabel; threads: ThreadSummary[] }[] {
  const groups = new Map<GroupLabel, ThreadSummary[]>();
  for (const t of threads) {
    const label = groupOf(lastActivity(t), now);
    const list = groups.get(label) ?? [];
    list.push(t);
    groups.set(label, list);
  }
  return GROUP_ORDER.filter((l) => groups.has(l)).map((label) => ({ label, threads: groups.get(label) ?? [] }));
}

export function threadTitle(t: { name: string | null }): string {
  return t.name?.trim() || tr("threadHistory.untitled");
}

export interface HistoryOptions {
  api: Pick<ApiClient, "listThreads" | "patchThread" | "deleteThread">;
  /** A thread was chosen (plain click or Enter on its link). */
  onOpen(thread: ThreadSummary): void;
  /** Shows a "New chat" button when given. */
  onNew?(): void;
  /** Rename, delete and share per thread (the served page). */
  manage?: boolean;
  /** The link of a thread (so it opens in a new tab with a middle click). */
  href?(id: string): string;
  /** The absolute read-only link of a shared thread. */
  shareUrl?(id: string): string;
  onDeleted?(id: string): void;
  onRenamed?(id: string, name: string): void;
  pageSize?: number;
  debounceMs?: number;
  now?: () => Date;
}

const NEAR_BOTTOM_PX = 160;

export class HistoryList {
  readonly el: HTMLElement;
  threads: ThreadSummary[] = [];
  cursor: string | null = null;
  hasNext = false;
  loading = false;
  search = "";
  activeId: string | null = null;
  private generation = 0;
  private abort: AbortController | null = null;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private renamingId: string | null = null;
  private error: string | null = null;
  private loadedOnce = false;
  private readonly searchInput: HTMLInputElement;
  private readonly listEl = h("div", { class: "nbc-history-groups" });
  private readonly statusEl = h("div", { class: "nbc-history-status", role: "status", "aria-live": "polite" });
  private readonly moreBtn = bind(h("button", { type: "button", class: "nbc-btn nbc-history-more", hidden: true }), "text", "threadHistory.loadMore");
  private readonly scroller: HTMLElement;
  private readonly dialogHost = h("div", { class: "nbc-history-dialogs" });

  constructor(private readonly opts: HistoryOptions) {
    this.searchInput = bind(bind(h("input", { type: "search", class: "nbc-input nbc-history-search", autocomplete: "off" }),
      "label", "threadHistory.search"), "placeholder", "threadHistory.search");
    this.searchInput.addEventListener("input", () => this.scheduleSearch(this.searchInput.value));
    this.searchInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); this.setSearch(this.searchInput.value); }
      if (e.key === "Escape" && this.searchInput.value) { e.preventDefault(); this.searchInput.value = ""; this.setSearch(""); }
    });
    this.moreBtn.addEventListener("click", () => void this.loadMore());
    this.scroller = h("div", { class: "nbc-history-scroll" }, this.listEl, this.statusEl, this.moreBtn);
    this.scroller.addEventListener("scroll", () => this.maybeLoadMore(), { passive: true });
    const newBtn = opts.onNew ? bind(h("button", { type: "button", class: "nbc-btn nbc-new-chat" }), "text", "navigation.newChat.button") : null;
    newBtn?.addEventListener("click", () => opts.onNew?.());
    this.el = bind(h("nav", { class: "nbc-history" },
      h("div", { class: "nbc-history-top" }, newBtn, this.searchInput), this.scroller, this.dialogHost), "label", "threadHistory.label");
  }

  // ------------------------------------------------------------------ data

  /** Load the first page again (current search kept). */
  reload(): Promise<void> {
    this.generation += 1;
    this.abort?.abort();
    this.abort = null;
    this.threads = [];
    this.cursor = null;
    this.hasNext = false;
    this.loading = false;
    this.error = null;
    this.loadedOnce = false;
    this.render();
    return this.fetchPage();
  }

  /** Next page by cursor; nothing when there is none or one is loading. */
  loadMore(): Promise<void> {
    if (this.loading || !this.hasNext) return Promise.resolve();
    return this.fetchPage();
  }

  /** Debounced search from typing. */
  scheduleSearch(value: string): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.setSearch(value);
    }, this.opts.debounceMs ?? 300);
  }

  /** Search now (full text on the server); same text → nothing. */
  setSearch(value: string): void {
    if (this.debounce) { clearTimeout(this.debounce); this.debounce = null; }
    const next = value.trim();
    if (next === this.search && this.loadedOnce) return;
    this.search = next;
    void this.reload();
  }

  private async fetchPage(): Promise<void> {
    const gen = this.generation;
    const abort = typeof AbortController === "function" ? new AbortController() : null;
    this.abort = abort;
    this.loading = true;
    this.error = null;
    this.renderStatus();
    try {
      const page = await this.opts.api.listThreads({ first: this.opts.pageSize ?? 30, cursor: this.cursor,
        search: this.search || null, signal: abort?.signal });
      if (gen !== this.generation) return; // a newer search or reload won
      const known = new Set(this.threads.map((t) => t.id));
      for (const t of page.data ?? []) if (!known.has(t.id)) this.threads.push(t);
      this.cursor = page.pageInfo?.endCursor ?? null;
      this.hasNext = Boolean(page.pageInfo?.hasNextPage && this.cursor);
      this.loadedOnce = true;
    } catch (err) {
      if (gen !== this.generation || (err as { name?: string })?.name === "AbortError") return;
      this.error = err instanceof ApiError ? err.message : String(err);
    } finally {
      if (gen === this.generation) {
        this.loading = false;
        this.abort = null;
        this.render();
      }
    }
    // A short first page may not fill the panel: keep going while the bottom shows.
    if (gen === this.generation && !this.error) this.maybeLoadMore();
  }

  private maybeLoadMore(): void {
    const s = this.scroller;
    if (!this.hasNext || this.loading || s.clientHeight === 0) return;
    if (s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX) void this.loadMore();
  }

  /** A thread got activity or a name in the open chat: put it first (new ones appear). */
  touch(id: string, name: string | null): void {
    const now = (this.opts.now?.() ?? new Date()).toISOString();
    const i = this.threads.findIndex((t) => t.id === id);
    if (i < 0 && this.search) return; // it may not match the search
    const old = i >= 0 ? this.threads.splice(i, 1)[0] : undefined;
    this.threads.unshift({ ...(old ?? { id, createdAt: now, shared: false }), name: name ?? old?.name ?? null, updatedAt: now });
    this.render();
  }

  remove(id: string): void {
    this.threads = this.threads.filter((t) => t.id !== id);
    this.render();
  }

  setActive(id: string | null): void {
    this.activeId = id;
    for (const a of this.listEl.querySelectorAll<HTMLElement>(".nbc-thread-link")) {
      if (a.closest<HTMLElement>("[data-thread-id]")?.dataset.threadId === id) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  }

  focusSearch(): void {
    this.searchInput.focus();
  }

  dispose(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.abort?.abort();
    this.generation += 1;
    this.el.remove();
  }

  // ------------------------------------------------------------------ DOM

  render(): void {
    const groups = groupThreads(this.threads, this.opts.now?.() ?? new Date());
    this.listEl.replaceChildren(...groups.map((g, i) => {
      const headId = `nbc-hg-${i}-${Math.random().toString(36).slice(2, 7)}`;
      return h("section", { class: "nbc-history-group", "aria-labelledby": headId },
        h("h2", { class: "nbc-history-heading", id: headId }, tr(GROUP_KEYS[g.label])),
        h("ul", { class: "nbc-history-items" }, ...g.threads.map((t) => this.item(t))));
    }));
    this.renderStatus();
    const input = this.renamingId ? this.listEl.querySelector<HTMLInputElement>(".nbc-rename-input") : null;
    input?.focus();
  }

  private renderStatus(): void {
    this.moreBtn.hidden = !this.hasNext || this.loading;
    this.statusEl.replaceChildren();
    if (this.error) {
      const retry = h("button", { type: "button", class: "nbc-btn" }, tr("common.actions.retry"));
      retry.addEventListener("click", () => void (this.threads.length ? this.fetchPage() : this.reload()));
      this.statusEl.append(h("span", { class: "nbc-error-text" }, tr("threadHistory.couldNotLoad", { error: this.error })), " ", retry);
    } else if (this.loading) {
      this.statusEl.append(h("span", { class: "nbc-muted" }, tr("common.status.loading")));
    } else if (this.loadedOnce && this.threads.length === 0) {
      this.statusEl.append(h("span", { class: "nbc-muted" },
        this.search ? tr("threadHistory.noMatch", { query: this.search }) : tr("threadHistory.empty")));
    }
  }

  private item(t: ThreadSummary): HTMLElement {
    const title = threadTitle(t);
    const li = h("li", { class: "nbc-thread", "data-thread-id": t.id, "data-shared": t.shared ? "true" : "false" });
    if (this.renamingId === t.id) {
      li.append(this.renameInput(t));
      return li;
    }
    const link = h("a", { class: "nbc-thread-link", href: this.opts.href?.(t.id) ?? "#", title,
      "aria-current": t.id === this.activeId ? "page" : null }, title);
    link.addEventListener("click", (e) => {
      const m = e as MouseEvent;
      if (this.opts.href && (m.ctrlKey || m.metaKey || m.shiftKey || m.altKey || m.button === 1)) return;
      e.preventDefault();
      this.opts.onOpen(t);
    });
    li.append(link);
    if (t.shared) li.append(h("span", { class: "nbc-shared-mark", title: tr("threadHistory.shared"), "aria-label": tr("threadHistory.shared") }, "⇗"));
    if (this.opts.manage) {
      const btn = (label: string, icon: string, fn: () => void, extra: Record<string, string> = {}): HTMLElement => {
        const b = h("button", { type: "button", class: "nbc-icon-btn", "aria-label": label, title: label, ...extra }, icon);
        b.addEventListener("click", (e) => { e.stopPropagation(); fn(); });
        return b;
      };
      li.append(h("span", { class: "nbc-thread-actions" },
        btn(tr("threadHistory.actions.rename"), "✎", () => this.startRename(t.id)),
        btn(tr("threadHistory.actions.share"), "⇪", () => this.openShare(t), { "aria-haspopup": "dialog" }),
        btn(tr("threadHistory.actions.delete"), "✕", () => this.confirmDelete(t), { "aria-haspopup": "dialog" })));
    }
    return li;
  }

  // ------------------------------------------------------------------ rename

  startRename(id: string): void {
    this.renamingId = id;
    this.render();
  }

  private renameInput(t: ThreadSummary): HTMLElement {
    const input = h("input", { type: "text", class: "nbc-input nbc-rename-input", "aria-label": tr("threadHistory.actions.chatName"),
      maxlength: 1000 });
    input.value = t.name ?? "";
    let done = false;
    const finish = (save: boolean): void => {
      if (done) return;
      done = true;
      this.renamingId = null;
      const name = input.value.trim();
      if (save && name && name !== (t.name ?? "")) void this.rename(t.id, name);
      else this.render();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); finish(true); }
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); finish(false); }
    });
    input.addEventListener("blur", () => finish(true));
    queueMicrotask(() => input.select());
    return input;
  }

  async rename(id: string, name: string): Promise<void> {
    const t = this.threads.find((x) => x.id === id);
    const before = t?.name ?? null;
    if (t) t.name = name;
    this.render();
    try {
      const res = await this.opts.api.patchThread(id, { name });
      if (t) t.name = res?.name ?? name;
      this.opts.onRenamed?.(id, t?.name ?? name);
    } catch (err) {
      if (t) t.name = before;
      this.error = `rename failed: ${errText(err)}`;
    }
    this.render();
  }

  // ------------------------------------------------------------------ delete

  confirmDelete(t: ThreadSummary): void {
    const cancel = h("button", { type: "button", class: "nbc-btn" }, tr("common.actions.cancel"));
    const ok = h("button", { type: "button", class: "nbc-btn nbc-danger" }, tr("threadHistory.actions.delete"));
    const titleId = `nbc-del-${t.id}`;
    const dialog = h("div", { class: "nbc-dialog", role: "alertdialog", "aria-modal": "true", "aria-labelledby": titleId },
      h("p", { id: titleId }, tr("threadHistory.delete.title", { name: threadTitle(t) })),
      h("p", { class: "nbc-muted" }, tr("threadHistory.delete.detail")),
      h("div", { class: "nbc-row nbc-dialog-buttons" }, cancel, ok));
    const close = this.showDialog(dialog, cancel);
    cancel.addEventListener("click", close);
    ok.addEventListener("click", () => { close(); void this.delete(t.id); });
  }

  async delete(id: string): Promise<void> {
    try {
      await this.opts.api.deleteThread(id);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        this.error = `delete failed: ${errText(err)}`;
        this.render();
        return;
      }
    }
    this.remove(id);
    this.opts.onDeleted?.(id);
  }

  // ------------------------------------------------------------------ share

  openShare(t: ThreadSummary): void {
    const url = this.opts.shareUrl?.(t.id) ?? "";
    const box = h("input", { type: "checkbox", "aria-label": tr("threadHistory.shared") });
    box.checked = Boolean(t.shared);
    const link = h("input", { type: "text", class: "nbc-input nbc-share-link", readonly: true, "aria-label": tr("threadHistory.share.link") });
    link.value = url;
    const copy = h("button", { type: "button", class: "nbc-btn" }, tr("threadHistory.share.copyLink"));
    const closeBtn = h("button", { type: "button", class: "nbc-btn" }, tr("common.actions.close"));
    const note = h("p", { class: "nbc-muted" });
    const sync = (): void => {
      link.disabled = !box.checked;
      copy.disabled = !box.checked;
      note.textContent = box.checked
        ? tr("threadHistory.share.on") : tr("threadHistory.share.off");
    };
    sync();
    const dialog = h("div", { class: "nbc-dialog", role: "dialog", "aria-modal": "true", "aria-label": tr("threadHistory.share.dialog") },
      h("p", {}, h("strong", {}, tr("threadHistory.share.title", { name: threadTitle(t) }))),
      h("label", { class: "nbc-row" }, box, ` ${tr("threadHistory.share.toggle")}`), note,
      h("div", { class: "nbc-row" }, link, copy), h("div", { class: "nbc-row nbc-dialog-buttons" }, closeBtn));
    const close = this.showDialog(dialog, box);
    closeBtn.addEventListener("click", close);
    copy.addEventListener("click", () => void copyText(url).then((ok) => flashCopied(copy, ok)));
    box.addEventListener("change", () => {
      const wanted = box.checked;
      box.disabled = true;
      sync();
      void this.setShared(t.id, wanted).then((ok) => {
        box.disabled = false;
        if (!ok) box.checked = !wanted;
        sync();
        if (ok && wanted) link.select();
      });
    });
  }

  async setShared(id: string, shared: boolean): Promise<boolean> {
    const t = this.threads.find((x) => x.id === id);
    try {
      const res = await this.opts.api.patchThread(id, { shared });
      if (t) t.shared = res?.shared ?? shared;
      this.render();
      return true;
    } catch (err) {
      this.error = `sharing failed: ${errText(err)}`;
      this.render();
      return false;
    }
  }

  /** Show a modal dialog; returns its close function (Escape and the backdrop close it too). */
  private showDialog(dialog: HTMLElement, focus: HTMLElement): () => void {
    const previous = (this.el.ownerDocument.activeElement as HTMLElement | null) ?? null;
    const backdrop = h("div", { class: "nbc-backdrop" }, dialog);
    const close = (): void => {
      backdrop.remove();
      if (previous?.isConnected) previous.focus();
    };
    backdrop.addEventListener("click", (e) => { if (e.target === backdrop) close(); });
    backdrop.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); close(); } });
    this.dialogHost.replaceChildren(backdrop);
    focus.focus();
    return close;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
