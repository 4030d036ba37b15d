import { afterEach, describe, expect, it, vi } from "vitest";
import type { ThreadPage, ThreadSummary } from "../src/api";
import { ApiError } from "../src/api";
import { HistoryList, groupOf, groupThreads } from "../src/ui/history";
import { settle, thread } from "./http";

const NOW = new Date(2024, 5, 15, 12, 0, 0); // local time, 15 June 2024 noon
const at = (days: number, hours = 0): string => new Date(2024, 5, 15 - days, 12 - hours).toISOString();

function t(id: string, when: string, over: Partial<ThreadSummary> = {}): ThreadSummary {
  return thread(id, `Chat ${id}`, when, over) as ThreadSummary;
}

describe("grouping by last activity", () => {
  it("puts threads in Today / Yesterday / Previous 7 days / Older by local calendar day", () => {
    const today0 = new Date(2024, 5, 15, 0, 0, 1);
    expect(groupOf(today0, NOW)).toBe("Today");
    expect(groupOf(new Date(2024, 5, 14, 23, 59), NOW)).toBe("Yesterday");
    expect(groupOf(new Date(2024, 5, 14, 0, 0), NOW)).toBe("Yesterday");
    expect(groupOf(new Date(2024, 5, 13, 23, 59), NOW)).toBe("Previous 7 days");
    expect(groupOf(new Date(2024, 5, 8, 0, 0), NOW)).toBe("Previous 7 days");
    expect(groupOf(new Date(2024, 5, 7, 23, 59), NOW)).toBe("Older");
    expect(groupOf(new Date(2024, 5, 15, 13), NOW)).toBe("Today"); // server clock ahead
    expect(groupOf(null, NOW)).toBe("Older");
  });

  it("uses updatedAt over createdAt, keeps server order, omits empty groups", () => {
    const groups = groupThreads([
      t("a", at(30), { updatedAt: at(0, 1) }), // created long ago, active today
      t("b", at(0, 2)),
      t("c", at(40)),
      t("d", at(3)),
      t("e", "not a date"),
    ], NOW);
    expect(groups.map((g) => [g.label, g.threads.map((x) => x.id)])).toEqual([
      ["Today", ["a", "b"]], ["Previous 7 days", ["d"]], ["Older", ["c", "e"]],
    ]);
  });
});

/** An API double with pages keyed by cursor ("" = first page) for each search text. */
function pagedApi(pages: Record<string, Record<string, ThreadPage>>) {
  const calls: { cursor: string | null; search: string | null }[] = [];
  const api = {
    listThreads: vi.fn(async (o: { cursor?: string | null; search?: string | null } = {}) => {
      calls.push({ cursor: o.cursor ?? null, search: o.search ?? null });
      const page = pages[o.search ?? ""]?.[o.cursor ?? ""];
      if (!page) throw new ApiError(400, "bad_request", "bad cursor");
      return structuredClone(page);
    }),
    patchThread: vi.fn(async (id: string, p: { name?: string; shared?: boolean }) =>
      ({ id, name: p.name ?? null, shared: p.shared ?? false })),
    deleteThread: vi.fn(async () => undefined),
  };
  return { api, calls };
}

const page = (ids: string[], end: string | null): ThreadPage => ({
  pageInfo: { hasNextPage: end !== null, endCursor: end },
  data: ids.map((id) => t(id, at(Number(id.replace(/\D/g, "")) % 10))),
});

function names(list: HistoryList): string[] {
  return [...list.el.querySelectorAll("a.nbc-thread-link")].map((a) => a.textContent ?? "");
}

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

describe("history list", () => {
  it("loads pages by cursor until hasNextPage is false, without duplicates", async () => {
    const { api, calls } = pagedApi({ "": {
      "": page(["t1", "t2"], "c2"), c2: page(["t2", "t3"], "c3"), c3: page(["t4"], null) } });
    const list = new HistoryList({ api, onOpen: () => undefined, now: () => NOW });
    document.body.append(list.el);
    await list.reload();
    expect(names(list)).toEqual(["Chat t1", "Chat t2"]);
    const more = [...list.el.querySelectorAll("button")].find((b) => b.textContent === "Load more chats")!;
    expect(more.hidden).toBe(false);
    more.click();
    await settle();
    await list.loadMore();
    expect(calls.map((c) => c.cursor)).toEqual([null, "c2", "c3"]);
    expect(list.threads.map((x) => x.id)).toEqual(["t1", "t2", "t3", "t4"]);
    expect(list.hasNext).toBe(false);
    expect(more.hidden).toBe(true);
    await list.loadMore(); // nothing left
    expect(calls).toHaveLength(3);
    expect(list.el.getAttribute("aria-label")).toBe("History");
    expect(list.el.tagName).toBe("NAV");
    const headings = [...list.el.querySelectorAll("h2")].map((x) => x.textContent);
    expect(headings).toEqual(["Yesterday", "Previous 7 days"]); // t1 is 1 day old, t2–t4 2–4 days
  });

  it("ignores a page that arrives after the search changed", async () => {
    let release: (p: ThreadPage) => void = () => undefined;
    const api = {
      listThreads: vi.fn((o: { search?: string | null } = {}) => (o.search
        ? Promise.resolve(page(["s1"], null))
        : new Promise<ThreadPage>((r) => { release = r; }))),
      patchThread: vi.fn(), deleteThread: vi.fn(),
    };
    const list = new HistoryList({ api, onOpen: () => undefined, now: () => NOW });
    void list.reload();
    list.setSearch("pandas");
    await settle();
    release(page(["old1", "old2"], "c"));
    await settle();
    expect(list.threads.map((x) => x.id)).toEqual(["s1"]);
    expect(list.hasNext).toBe(false);
  });

  it("debounces typing into one full-text search", async () => {
    vi.useFakeTimers();
    const { api, calls } = pagedApi({ "": { "": page(["t1"], null) }, "plot data": { "": page(["t7"], null) } });
    const list = new HistoryList({ api, onOpen: () => undefined, debounceMs: 300, now: () => NOW });
    document.body.append(list.el);
    await list.reload();
    const box = list.el.querySelector<HTMLInputElement>('input[aria-label="Search chats"]')!;
    for (const text of ["p", "plo", "plot d", "plot data"]) {
      box.value = text;
      box.dispatchEvent(new Event("input"));
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(calls.map((c) => c.search)).toEqual([null, "plot data"]);
    expect(names(list)).toEqual(["Chat t7"]);
    // the same text again does not search again; Escape clears it
    list.setSearch("plot data ");
    expect(calls).toHaveLength(2);
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.search)).toEqual([null, "plot data", null]);
  });

  it("shows empty, no-match and error states with a retry", async () => {
    const { api } = pagedApi({ "": { "": page([], null) }, zzz: { "": page([], null) } });
    const list = new HistoryList({ api, onOpen: () => undefined });
    await list.reload();
    expect(list.el.querySelector('[role="status"]')?.textContent).toBe("No chats yet");
    list.setSearch("zzz");
    await settle();
    expect(list.el.querySelector('[role="status"]')?.textContent).toContain("No chats match");
    api.listThreads.mockRejectedValueOnce(new ApiError(500, "internal_error", "boom"));
    await list.reload();
    expect(list.el.querySelector('[role="status"]')?.textContent).toContain("Could not load chats: boom");
    list.el.querySelector<HTMLButtonElement>('[role="status"] button')!.click();
    await settle();
    expect(list.el.querySelector('[role="status"]')?.textContent).toContain("No chats match");
  });

  it("opens a thread from its link, and marks the active one", async () => {
    const { api } = pagedApi({ "": { "": page(["t1", "t2"], null) } });
    const opened: string[] = [];
    const list = new HistoryList({ api, onOpen: (x) => opened.push(x.id), href: (id) => `/thread/${id}`, now: () => NOW });
    await list.reload();
    list.setActive("t2");
    const links = [...list.el.querySelectorAll<HTMLAnchorElement>("a.nbc-thread-link")];
    expect(links[1]?.getAttribute("href")).toBe("/thread/t2");
    expect(links[1]?.getAttribute("aria-current")).toBe("page");
    const ev = new MouseEvent("click", { bubbles: true, cancelable: true });
    links[0]!.dispatchEvent(ev);
    expect(ev.defaultPrevented).toBe(true);
    expect(opened).toEqual(["t1"]);
  });

  it("renames inline, deletes after confirming, and toggles sharing", async () => {
    const { api } = pagedApi({ "": { "": page(["t1", "t2"], null) } });
    const deleted: string[] = [];
    const list = new HistoryList({ api, manage: true, onOpen: () => undefined, onDeleted: (id) => deleted.push(id),
      shareUrl: (id) => `http://x/share/${id}`, now: () => NOW });
    document.body.append(list.el);
    await list.reload();
    const item = (id: string) => list.el.querySelector<HTMLElement>(`[data-thread-id="${id}"]`)!;
    const button = (root: ParentNode, name: string) =>
      [...root.querySelectorAll<HTMLButtonElement>("button")].find((b) => (b.getAttribute("aria-label") ?? b.textContent) === name)!;

    button(item("t1"), "Rename").click();
    const input = list.el.querySelector<HTMLInputElement>('input[aria-label="Chat name"]')!;
    expect(input.value).toBe("Chat t1");
    input.value = "  Pandas help ";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await settle();
    expect(api.patchThread).toHaveBeenCalledWith("t1", { name: "Pandas help" });
    expect(names(list)[0]).toBe("Pandas help");

    // Escape cancels without a call
    button(item("t1"), "Rename").click();
    list.el.querySelector<HTMLInputElement>('input[aria-label="Chat name"]')!
      .dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect(api.patchThread).toHaveBeenCalledTimes(1);

    button(item("t2"), "Delete").click();
    let dialog = list.el.querySelector<HTMLElement>('[role="alertdialog"]')!;
    expect(dialog.textContent).toContain("Delete “Chat t2”?");
    button(dialog, "Cancel").click();
    expect(api.deleteThread).not.toHaveBeenCalled();
    expect(list.el.querySelector('[role="alertdialog"]')).toBeNull();
    button(item("t2"), "Delete").click();
    dialog = list.el.querySelector<HTMLElement>('[role="alertdialog"]')!;
    button(dialog, "Delete").click();
    await settle();
    expect(api.deleteThread).toHaveBeenCalledWith("t2");
    expect(deleted).toEqual(["t2"]);
    expect(names(list)).toEqual(["Pandas help"]);

    button(item("t1"), "Share").click();
    const share = list.el.querySelector<HTMLElement>('[role="dialog"][aria-label="Share chat"]')!;
    const box = share.querySelector<HTMLInputElement>('input[aria-label="Shared"]')!;
    const link = share.querySelector<HTMLInputElement>('input[aria-label="Share link"]')!;
    expect(link.value).toBe("http://x/share/t1");
    expect(button(share, "Copy link").disabled).toBe(true);
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    await settle();
    expect(api.patchThread).toHaveBeenLastCalledWith("t1", { shared: true });
    expect(button(share, "Copy link").disabled).toBe(false);
    expect(item("t1").dataset.shared).toBe("true");
    // a refused change is rolled back
    api.patchThread.mockRejectedValueOnce(new ApiError(403, "forbidden", "read-only"));
    box.checked = false;
    box.dispatchEvent(new Event("change"));
    await settle();
    expect(box.checked).toBe(true);
    expect(list.el.querySelector('[role="status"]')?.textContent).toContain("sharing failed: read-only");
  });

  it("moves a thread with new activity to the top and adds new ones", async () => {
    const { api } = pagedApi({ "": { "": page(["t1", "t2"], null) } });
    const list = new HistoryList({ api, onOpen: () => undefined, now: () => NOW });
    await list.reload();
    list.touch("t2", null);
    list.touch("new", "Fresh chat");
    expect(names(list).slice(0, 3)).toEqual(["Fresh chat", "Chat t2", "Chat t1"]);
  });
});
