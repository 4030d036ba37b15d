/**
 * The served-mode transport: a WebSocket to a URL the page gives, with reconnection.
 *
 * Text frames carry JSON: client → server one event, server → client one batch (array).
 * An event with buffers (upload_chunk) goes as one binary frame:
 *   [u32 big-endian JSON length][JSON event utf-8][buffer 0 bytes][buffer 1 bytes]…
 * After every (re)connection `open` fires and the app sends `hello` with its lastSeq.
 *
 * Close codes: 4401 (the server's SIGNED_OUT_CLOSE: the login session ended) stops the
 * reconnecting for good, status "closed"; 1007 (not UTF-8) and 1009 (too big) keep it going
 * and leave their reason in `lastClose`, for the app to show.
 */
import { type ClientEvent, type ServerEvent } from "../protocol";
import { decodeServerFrame } from "../server_frames";
import { TransportBase } from "./base";
import { type CloseInfo, REFUSED_CODES, SIGNED_OUT_CODE } from "./types";

export interface WebSocketOptions {
  url: string;
  /** First retry delay; doubles per failure up to `maxDelayMs`, with ±25% jitter. */
  minDelayMs?: number;
  maxDelayMs?: number;
  WebSocketImpl?: typeof WebSocket;
}

export function encodeBinary(event: ClientEvent, buffers: ArrayBuffer[]): ArrayBuffer {
  const json = new TextEncoder().encode(JSON.stringify(event));
  const total = 4 + json.byteLength + buffers.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, json.byteLength);
  out.set(json, 4);
  let offset = 4 + json.byteLength;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out.buffer;
}

export class WebSocketTransport extends TransportBase {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private queue: (string | ArrayBuffer)[] = [];
  lastClose: CloseInfo | null = null;
  private readonly opts: Required<Omit<WebSocketOptions, "WebSocketImpl">> & {
    WebSocketImpl: typeof WebSocket;
  };

  constructor(options: WebSocketOptions) {
    super("connecting");
    this.opts = {
      minDelayMs: 500, maxDelayMs: 10_000, WebSocketImpl: globalThis.WebSocket, ...options,
    };
    this.connect();
  }

  send(event: ClientEvent, buffers?: ArrayBuffer[]): void {
    const frame = buffers?.length ? encodeBinary(event, buffers) : JSON.stringify(event);
    if (this.ws && this.status === "open") this.ws.send(frame);
    // `hello` is re-sent on every open, so a queued one would be stale.
    else if (event.type !== "hello") this.queue.push(frame);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close();
    this.setStatus("closed");
  }

  private connect(): void {
    if (this.closed) return;
    this.setStatus("connecting");
    const ws = new this.opts.WebSocketImpl(this.opts.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.lastClose = null;
      this.setStatus("open"); // the app sends hello here, before the queue drains
      const queued = this.queue;
      this.queue = [];
      for (const frame of queued) ws.send(frame);
    };
    ws.onmessage = (msg: MessageEvent) => {
      if (typeof msg.data !== "string") return;
      let events: ServerEvent[];
      try {
        events = decodeServerFrame(msg.data);
      } catch (err) {
        console.error(err);
        return;
      }
      this.deliver(events);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) return;
      const code = typeof ev?.code === "number" ? ev.code : 1006;
      this.lastClose = code === SIGNED_OUT_CODE || REFUSED_CODES.has(code) ? { code, reason: ev.reason || "" } : null;
      if (code === SIGNED_OUT_CODE) {
        this.closed = true;
        this.queue = [];
        this.setStatus("closed");
        return;
      }
      this.setStatus("connecting");
      this.timer = setTimeout(() => this.connect(), this.backoff());
    };
    ws.onerror = () => ws.close();
  }

  /** Delay before the next attempt: min × 2^attempt, capped, with ±25% jitter. */
  backoff(): number {
    const base = Math.min(this.opts.maxDelayMs, this.opts.minDelayMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }
}
