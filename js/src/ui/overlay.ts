/** The chat's overlay (an enlarged image, a page element) and its passing notices. */
import { h } from "./dom";

/** Full-size over the chat; a click outside its content (or Escape, in app.ts) closes it. */
export class Overlay {
  readonly el = h("div", { class: "nbc-overlay", hidden: true, role: "dialog", "aria-modal": "true" });

  constructor() {
    this.el.addEventListener("click", (e) => { if (e.target === this.el) this.close(); });
  }

  open(content: HTMLElement, label?: string): void {
    if (label !== undefined) this.el.setAttribute("aria-label", label);
    this.el.replaceChildren(content);
    this.el.hidden = false;
  }

  close(): void {
    this.el.hidden = true;
    this.el.replaceChildren();
  }
}

/** A notice over the chat that goes by itself (an error stays longer). */
export function toast(notices: HTMLElement, level: string, message: string): void {
  const note = h("div", { class: `nbc-notice nbc-notice-${level}` }, message);
  notices.append(note);
  setTimeout(() => note.remove(), level === "error" ? 10_000 : 5000);
}
