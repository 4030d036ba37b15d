/**
 * Served-page entry: mounts the app over a WebSocket.
 *
 *   import { start } from "./widget.js" bundle's sibling page.js;
 *   start(document.getElementById("app"), { wsUrl: "wss://…/nbchat/ws", filesUrl: "/nbchat/files/" })
 *
 * Element bytes (`objectKey`) load from `filesUrl + encodeURIComponent(objectKey)`.
 */
import css from "nbchat:css";
import { injectCss, mount } from "./host";
import type { ChatApp } from "./ui/app";
import { WebSocketTransport } from "./transports/websocket";

export interface PageOptions {
  wsUrl: string;
  filesUrl: string;
  height?: number;
}

export function start(el: HTMLElement, options: PageOptions): ChatApp {
  injectCss(css, el.ownerDocument);
  const transport = new WebSocketTransport({ url: options.wsUrl });
  // The app sends hello (with lastSeq) on every "open" the transport reports.
  return mount(el, {
    transport,
    resolveFile: async (objectKey) => `${options.filesUrl}${encodeURIComponent(objectKey)}`,
  }, { height: options.height });
}
