/**
 * The served page inside another page's `<iframe>`: `window.postMessage` between that
 * parent and the chat session (Chainlit's window messages and CopilotFunction).
 *
 * Only a parent whose origin is in `server.embed_origins` (the page config's
 * `embedOrigins`) is heard, and the page posts only to those origins ("*": any). What the
 * parent posts becomes a `window_message` event; `{type: "nbchat:call_fn_result", callId,
 * result | error}` answers a `call_fn`, which the page posts to the parent as
 * `{type: "nbchat:call_fn", callId, name, args}`. Messages wait for the session's
 * `welcome` (the server refuses events before `hello`).
 */
import type { ClientEvent, ServerEvent } from "./protocol";

export const CALL_FN = "nbchat:call_fn";
export const CALL_FN_RESULT = "nbchat:call_fn_result";

export interface ParentWindow {
  postMessage(message: unknown, targetOrigin: string): void;
}

export interface EmbeddingOptions {
  origins: readonly string[];
  send: (event: ClientEvent) => void;
  /** The window listened on (the page's own). */
  win?: Window;
  /** The embedding page; none when the page is not framed. */
  parent?: ParentWindow | null;
}

function framingParent(win: Window): ParentWindow | null {
  return win.parent && win.parent !== win ? win.parent : null;
}

export class EmbeddingRelay {
  private readonly origins: readonly string[];
  private readonly send: (event: ClientEvent) => void;
  private readonly win: Window;
  readonly parent: ParentWindow | null;
  private pending: ClientEvent[] = [];
  private ready = false;

  constructor(options: EmbeddingOptions) {
    this.origins = options.origins;
    this.send = options.send;
    this.win = options.win ?? window;
    this.parent = options.parent === undefined ? framingParent(this.win) : options.parent;
    if (this.active) this.win.addEventListener("message", this.onMessage);
  }

  /** Framed by a page, and some origin may embed: otherwise the relay does nothing. */
  get active(): boolean {
    return this.parent !== null && this.origins.length > 0;
  }

  allows(origin: string): boolean {
    return this.origins.includes("*") || this.origins.includes(origin);
  }

  /** The session said welcome: send what the parent posted meanwhile. */
  connected(): void {
    this.ready = true;
    const queued = this.pending;
    this.pending = [];
    for (const event of queued) this.send(event);
  }

  /** A new session (another chat opened): hold messages until its welcome. */
  reset(): void {
    this.ready = false;
    this.pending = [];
  }

  private readonly onMessage = (e: MessageEvent): void => {
    if (e.source !== (this.parent as unknown) || !this.allows(e.origin)) return;
    const event = toClientEvent(e.data);
    if (this.ready) this.send(event);
    else this.pending.push(event);
  };

  onServerEvent(event: ServerEvent): void {
    if (!this.active) return;
    if (event.type === "window_message") this.post(event.data);
    else if (event.type === "call_fn") {
      this.post({ type: CALL_FN, callId: event.callId, name: event.name, args: event.args });
    }
  }

  private post(data: unknown): void {
    for (const origin of this.origins) this.parent?.postMessage(data, origin);
  }

  dispose(): void {
    this.win.removeEventListener("message", this.onMessage);
  }
}

function toClientEvent(data: unknown): ClientEvent {
  if (data && typeof data === "object" && (data as Record<string, unknown>).type === CALL_FN_RESULT) {
    const answer = data as Record<string, unknown>;
    const event: ClientEvent = { type: "call_fn_result", callId: String(answer.callId) };
    if (typeof answer.error === "string") event.error = answer.error;
    else event.result = answer.result ?? null;
    return event;
  }
  return { type: "window_message", data };
}
