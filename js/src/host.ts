/** Shared by both entries: inject the CSS once per document and mount the app. */
import { type AppOptions, ChatApp } from "./ui/app";
import type { Host } from "./transports/types";

export function injectCss(css: string, doc: Document = document): void {
  if (!css || doc.getElementById("nbchat-css")) return;
  const style = doc.createElement("style");
  style.id = "nbchat-css";
  style.textContent = css;
  doc.head.append(style);
}

export function mount(el: HTMLElement, host: Host, options: AppOptions = {}): ChatApp {
  return new ChatApp(el, host, options);
}
