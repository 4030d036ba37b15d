/**
 * The task list (`cl.TaskList`): like Chainlit, a panel beside the chat (not a chip in a
 * message) with the list's status line and one row per task with a status icon. A task
 * with `forId` links to its message. `TaskList.send()` again replaces the content: the
 * element event carries the whole list, and the panel re-renders from it.
 */
import type { ElementDict } from "../protocol";
import { h } from "./dom";
import { type Shape, icon } from "./icons";
import { bind, t } from "./i18n";

export type TaskStatus = "ready" | "running" | "done" | "failed";
export interface Task { title: string; status: TaskStatus; forId: string | null }
export interface TaskListData { status: string; tasks: Task[] }

const STATUSES: readonly TaskStatus[] = ["ready", "running", "done", "failed"];
const LABELS: Record<TaskStatus, string> = { ready: "tasks.ready", running: "tasks.running", done: "tasks.done", failed: "tasks.failed" };

/** The element's JSON content, read defensively (old or hand-written content). */
export function parseTaskList(el: ElementDict): TaskListData {
  let raw: unknown = null;
  try {
    raw = typeof el.content === "string" ? JSON.parse(el.content) : el.content;
  } catch {
    raw = null;
  }
  const obj = (raw && typeof raw === "object" ? raw : {}) as { status?: unknown; tasks?: unknown };
  const tasks = Array.isArray(obj.tasks) ? obj.tasks : [];
  return {
    status: typeof obj.status === "string" ? obj.status : "",
    tasks: tasks.map((t: unknown) => {
      const task = (t && typeof t === "object" ? t : {}) as Record<string, unknown>;
      const status = STATUSES.includes(task.status as TaskStatus) ? task.status as TaskStatus : "ready";
      return { title: String(task.title ?? ""), status, forId: typeof task.forId === "string" ? task.forId : null };
    }),
  };
}

/** A drawn status icon (glyphs depend on fonts; SVG always draws). */
function statusIcon(status: TaskStatus): Element {
  if (status === "running") return h("span", { class: "nbc-spinner nbc-task-icon", "aria-hidden": "true" });
  const ring: Shape = ["path", "M8 1.5a6.5 6.5 0 1 1 0 13a6.5 6.5 0 1 1 0-13"];
  const mark: Shape[] = status === "done" ? [["path", "M5 8.2l2 2 4-4.4"]]
    : status === "failed" ? [["path", "M5.8 5.8l4.4 4.4M10.2 5.8l-4.4 4.4"]] : [];
  const svg = icon([ring, ...mark]);
  svg.classList.add("nbc-task-icon");
  return svg;
}

/** The list's DOM; `goTo(forId)` scrolls to the task's message. */
export function renderTaskList(el: ElementDict, goTo: (stepId: string) => void): HTMLElement {
  const data = parseTaskList(el);
  const title = el.name && el.name !== "tasklist" ? el.name : t("tasks.title");
  const rows = data.tasks.map((task, i) => {
    const label = h("span", { class: "nbc-task-title" }, `${i + 1}. ${task.title}`);
    const body = task.forId
      ? h("a", { href: `#${task.forId}`, class: "nbc-task-link", onclick: (e: Event) => { e.preventDefault(); goTo(task.forId!); } }, label)
      : label;
    return h("li", { class: "nbc-task", "data-status": task.status },
      statusIcon(task.status), body, h("span", { class: "nbc-offscreen" }, ` (${t(LABELS[task.status])})`));
  });
  return h("section", { class: "nbc-tasklist", "aria-label": title, "data-element-id": el.id },
    h("div", { class: "nbc-tasklist-head" }, h("h2", { class: "nbc-tasklist-title" }, title),
      data.status ? h("span", { class: "nbc-tasklist-status", role: "status" }, data.status) : null),
    h("ol", { class: "nbc-tasks" }, ...rows));
}

/** The panel beside the chat that shows the latest task list (hidden when there is none). */
export class TaskListPanel {
  readonly el = bind(h("aside", { class: "nbc-taskpanel", hidden: true }), "label", "chat.elements.taskList");
  private shownId: string | null = null;

  constructor(private readonly goTo: (stepId: string) => void) {}

  show(el: ElementDict): void {
    this.shownId = el.id;
    this.el.replaceChildren(renderTaskList(el, this.goTo));
    this.el.hidden = false;
  }

  remove(id: string): void {
    if (id !== this.shownId) return;
    this.clear();
  }

  clear(): void {
    this.shownId = null;
    this.el.replaceChildren();
    this.el.hidden = true;
  }
}
