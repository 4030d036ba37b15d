/**
 * The side panel for elements with `display="side"` (Chainlit's ElementSideView): the
 * element's name in the message is a link; clicking it opens this panel beside the chat
 * with the element rendered at full size. "Close side panel" or Escape closes it, and
 * focus goes back to the link that opened it.
 */
import type { ElementDict } from "../protocol";
import { h } from "./dom";
import { t } from "./i18n";

export class SidePanel {
  readonly el = h("aside", { class: "nbc-side", hidden: true, "aria-label": t("chat.elements.element") });
  private opener: HTMLElement | null = null;
  private shownId: string | null = null;

  constructor() {
    this.el.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !this.el.hidden) { e.stopPropagation(); this.close(); }
    });
  }

  get openId(): string | null {
    return this.shownId;
  }

  open(el: ElementDict, content: HTMLElement, opener: HTMLElement | null = null): void {
    const close = h("button", { type: "button", class: "nbc-icon-btn nbc-side-close", "aria-label": t("chat.elements.closeSidePanel"),
      title: t("common.actions.close") }, "×");
    close.addEventListener("click", () => this.close());
    this.el.setAttribute("aria-label", el.name);
    this.el.replaceChildren(h("div", { class: "nbc-side-head" }, h("h2", { class: "nbc-side-title" }, el.name), close),
      h("div", { class: "nbc-side-body" }, content));
    this.el.hidden = false;
    this.shownId = el.id;
    this.opener = opener;
    close.focus();
  }

  /** Escape anywhere in the chat closes the panel too (the app forwards it). */
  close(): void {
    if (this.el.hidden) return;
    this.el.hidden = true;
    this.el.replaceChildren();
    this.shownId = null;
    const opener = this.opener;
    this.opener = null;
    if (opener?.isConnected) opener.focus();
  }

  /** The shown element was deleted. */
  remove(id: string): void {
    if (id === this.shownId) this.close();
  }
}
