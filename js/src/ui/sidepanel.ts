/**
 * The side panel beside the chat (Chainlit's ElementSideView). It shows either one
 * `display="side"` element (its name in the message is a link that opens it at full
 * size) or the element sidebar the server sets (`cl.ElementSidebar`: a title and a list
 * of elements). "Close side panel" or Escape closes it, and focus goes back to the link
 * that opened it.
 */
import type { ElementDict, SidebarDict } from "../protocol";
import { h } from "./dom";
import { t } from "./i18n";

export class SidePanel {
  readonly el = h("aside", { class: "nbc-side", hidden: true, "aria-label": t("chat.elements.element") });
  private opener: HTMLElement | null = null;
  private shownId: string | null = null;
  /** The sidebar shown (compared by reference: unchanged elements are not redrawn). */
  private sidebar: SidebarDict | null = null;

  constructor() {
    this.el.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !this.el.hidden) { e.stopPropagation(); this.close(); }
    });
  }

  get openId(): string | null {
    return this.shownId;
  }

  open(el: ElementDict, content: HTMLElement, opener: HTMLElement | null = null): void {
    this.show(el.name, [content], opener);
    this.shownId = el.id;
    this.el.querySelector<HTMLElement>(".nbc-side-close")?.focus();
  }

  /** Show what the server set as the sidebar (null: close it, if it shows the sidebar). */
  setSidebar(sidebar: SidebarDict | null, render: (el: ElementDict, prev?: HTMLElement) => HTMLElement): void {
    if (sidebar === null) {
      if (this.sidebar !== null) this.close();
      return;
    }
    if (this.sidebar !== null && this.sidebar.elements === sidebar.elements) {
      this.sidebar = sidebar; // only the title changed: keep the drawn elements (and their state)
      this.el.setAttribute("aria-label", sidebar.title || "Sidebar");
      const title = this.el.querySelector(".nbc-side-title");
      if (title) title.textContent = sidebar.title;
      return;
    }
    // An element shown before is offered to `render` (a custom element keeps its frame).
    const prev = new Map<string, HTMLElement>();
    for (const node of this.el.querySelectorAll<HTMLElement>(".nbc-side-body > [data-element-id]")) {
      prev.set(node.dataset.elementId ?? "", node);
    }
    this.show(sidebar.title, sidebar.elements.map((el) => render(el, this.sidebar ? prev.get(el.id) : undefined)), null);
    this.el.setAttribute("aria-label", sidebar.title || "Sidebar");
    this.el.dataset.sidebar = "true";
    this.sidebar = sidebar;
  }

  private show(title: string, contents: HTMLElement[], opener: HTMLElement | null): void {
    const close = h("button", { type: "button", class: "nbc-icon-btn nbc-side-close", "aria-label": t("chat.elements.closeSidePanel"),
      title: t("common.actions.close") }, "×");
    close.addEventListener("click", () => this.close());
    this.el.setAttribute("aria-label", title);
    delete this.el.dataset.sidebar;
    this.el.replaceChildren(h("div", { class: "nbc-side-head" }, h("h2", { class: "nbc-side-title" }, title), close),
      h("div", { class: "nbc-side-body" }, ...contents));
    this.el.hidden = false;
    this.shownId = null;
    this.sidebar = null;
    this.opener = opener;
  }

  /** Escape anywhere in the chat closes the panel too (the app forwards it). */
  close(): void {
    if (this.el.hidden) return;
    this.el.hidden = true;
    this.el.replaceChildren();
    this.shownId = null;
    this.sidebar = null;
    delete this.el.dataset.sidebar;
    const opener = this.opener;
    this.opener = null;
    if (opener?.isConnected) opener.focus();
  }

  /** The shown element was deleted. */
  remove(id: string): void {
    if (id === this.shownId) this.close();
  }
}
