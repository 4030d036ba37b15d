/**
 * A custom element in the chat: the app's ES module (`public/elements/<name>.js`) runs
 * in an `<iframe sandbox="allow-scripts">` (no `allow-same-origin`: an opaque origin,
 * so the code cannot read the session cookie, the page's DOM or storage, nor call the
 * API as the user). The frame's document is a `srcdoc` whose own CSP lets scripts come
 * only from the app (the page: its `static/` and `public/elements/` URLs; the widget: the
 * runtime by nonce and the module's `blob:`), on top of the policy of the page around it.
 * Everything else goes by postMessage, checked against the frame's window
 * (frame-runtime.ts lists the messages). `pushProps` hands the server's new props to
 * the live frames of an element (`CustomElement.update()`), without reloading them.
 */
import type { CallActionResult, ClientEvent, ElementDict } from "../protocol";
import { userMessage } from "../store/actions";
import { h } from "../ui/dom";

export interface CustomElementHost {
  /** The element's code: a URL the frame imports (page) or its text (widget). */
  code(name: string): Promise<{ url: string } | { code: string }>;
  /** The frame runtime: a script URL the page's CSP allows, or its text (widget). */
  frameScript: { src: string } | { code: string };
  /** URL prefixes the frame may load scripts from (page only). */
  scriptOrigins?: string[];
}

export interface CustomElementContext extends CustomElementHost {
  send(event: ClientEvent): void;
}

const MAX_HEIGHT = 2000;
const live = new Map<string, Set<Frame>>();
const byWindow = new Map<Window, Frame>();
const calls = new Map<string, Window>();

function attr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/** The frame's document: its CSP, a transparent page, and the runtime script. */
export function frameDocument(host: CustomElementHost): string {
  let scriptSrc: string;
  let script: string;
  if ("src" in host.frameScript) {
    scriptSrc = (host.scriptOrigins ?? []).join(" ");
    script = `<script src="${attr(host.frameScript.src)}"></script>`;
  } else {
    const n = nonce();
    scriptSrc = `'nonce-${n}' blob:`;
    script = `<script nonce="${n}">${host.frameScript.code.replace(/<\/script/gi, "<\\/script")}</script>`;
  }
  const csp = `script-src ${scriptSrc}; object-src 'none'; base-uri 'none'; form-action 'none'`;
  return `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">` +
    "<style>html,body{margin:0;padding:0;background:transparent;color:var(--fg,inherit);" +
    "font:var(--font-size,14px)/1.5 var(--font,system-ui,sans-serif)}</style>" +
    `</head><body><div id="root"></div>${script}</body></html>`;
}

class Frame {
  readonly iframe: HTMLIFrameElement;
  private props: Record<string, unknown>;

  constructor(private readonly el: ElementDict, private readonly ctx: CustomElementContext,
    private readonly box: HTMLElement) {
    this.props = el.props ?? {};
    this.iframe = h("iframe", { class: "nbc-custom-frame", title: el.name, sandbox: "allow-scripts",
      srcdoc: frameDocument(ctx) }) as HTMLIFrameElement;
  }

  /** The frame's runtime has loaded: give it the element. */
  async ready(): Promise<void> {
    const module = await this.ctx.code(this.el.name);
    const style = getComputedStyle(this.box);
    this.post({ nbc: "init", name: this.el.name, props: this.props, module,
      theme: { "--fg": style.color, "--font": style.fontFamily, "--font-size": style.fontSize } });
  }

  setProps(props: Record<string, unknown>): void {
    this.props = props;
    this.post({ nbc: "props", props });
  }

  post(message: Record<string, unknown>): void {
    this.iframe.contentWindow?.postMessage(message, "*");
  }

  receive(data: Record<string, unknown>): void {
    switch (data.nbc) {
      case "ready":
        this.ready().catch((err: unknown) => this.fail(String(err instanceof Error ? err.message : err)));
        return;
      case "height":
        if (typeof data.height === "number") this.iframe.style.height = `${Math.min(MAX_HEIGHT, Math.max(24, data.height))}px`;
        return;
      case "update":
        this.props = (data.props ?? {}) as Record<string, unknown>;
        this.ctx.send({ type: "element_update", id: this.el.id, props: this.props });
        return;
      case "call": {
        const callId = `${this.el.id}:${String(data.callId)}`;
        if (this.iframe.contentWindow) calls.set(callId, this.iframe.contentWindow);
        this.ctx.send({ type: "call_action", callId, name: String(data.name ?? ""),
          payload: (data.payload ?? {}) as Record<string, unknown> });
        return;
      }
      case "user_message":
        this.ctx.send(userMessage(String(data.text ?? "")));
        return;
      case "error":
        this.fail(String(data.message));
    }
  }

  fail(message: string): void {
    console.warn(`nbchat: custom element ${this.el.name}: ${message}`); // the app's problem, shown in the chat
    this.box.dataset.state = "error";
    this.box.querySelector(".nbc-custom-error")?.remove();
    this.box.append(h("div", { class: "nbc-error-text nbc-custom-error", role: "alert" }, `${this.el.name}: ${message}`));
  }
}

let listening = false;

function onMessage(event: MessageEvent): void {
  if (!event.source || !event.data || typeof event.data !== "object") return;
  const win = event.source as Window;
  let frame = byWindow.get(win);
  if (!frame) {
    // The first message of a frame ("ready"): find it among the live ones.
    for (const set of live.values()) for (const f of set) if (f.iframe.contentWindow === win) frame = f;
    if (!frame) return;
    byWindow.set(win, frame);
  }
  frame.receive(event.data as Record<string, unknown>);
}

/** Forget frames no longer in the document. */
function sweep(): void {
  for (const [win, frame] of byWindow) if (!frame.iframe.isConnected) byWindow.delete(win);
  for (const [id, set] of live) {
    for (const f of set) if (!f.iframe.isConnected) set.delete(f);
    if (!set.size) live.delete(id);
  }
}

/** The element's box with its running frame (the caller puts the box in the page). */
export function renderCustomElement(el: ElementDict, box: HTMLElement, ctx: CustomElementContext): HTMLElement {
  if (!listening) {
    window.addEventListener("message", onMessage);
    listening = true;
  }
  const frame = new Frame(el, ctx, box);
  box.append(frame.iframe);
  let set = live.get(el.id);
  if (!set) live.set(el.id, (set = new Set()));
  set.add(frame);
  return box;
}

/** New props from the server for element `el`: every live frame of it gets them. True
 * when one did (the caller then keeps the frame instead of drawing the element again). */
export function pushProps(el: ElementDict): boolean {
  sweep();
  const frames = live.get(el.id);
  for (const f of frames ?? []) f.setProps(el.props ?? {});
  return Boolean(frames?.size);
}

/** The answer to a frame's `callAction`. */
export function settleCall(event: CallActionResult): void {
  const win = calls.get(event.callId);
  calls.delete(event.callId);
  const local = event.callId.slice(event.callId.indexOf(":") + 1);
  win?.postMessage({ nbc: "call_result", callId: local, success: event.success, response: event.response,
    error: event.error }, "*");
}
