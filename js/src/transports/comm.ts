/**
 * The notebook transport: anywidget custom messages over the kernel comm.
 *
 *   JS → Python: model.send(event, undefined, buffers?)  — one protocol event per message;
 *                upload_chunk carries its bytes as buffers[0].
 *   Python → JS: msg:custom {events: [...]}              — one batch of server events.
 *
 * Host messages (not protocol events) share the channel under a `host` key:
 *   JS → Python: {host: "file_request", requestId, objectKey}
 *   Python → JS: {host: "file_response", requestId, mime?, error?} with buffers[0] = bytes
 *   JS → Python: {host: "element_code_request", requestId, name}  — a custom element's code
 *                (answered by file_response)
 *   JS → Python: {host: "reset", resumeThreadId?}  — replace this widget's session with a
 *                fresh one; the view then sends hello (with resumeThreadId to resume a thread)
 */
import { type ClientEvent, type ServerEvent, decodeServerFrame } from "../protocol";
import { TransportBase } from "./base";

/** The part of anywidget's model this module uses. */
export interface CommModel {
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(name: "msg:custom", cb: (msg: unknown, buffers: DataView[]) => void): void;
  off(name: "msg:custom", cb: (msg: unknown, buffers: DataView[]) => void): void;
  get(name: string): unknown;
}

interface FileResponse {
  host: "file_response";
  requestId: string;
  mime?: string;
  error?: string;
}

export class CommTransport extends TransportBase {
  private pending = new Map<string, { resolve: (b: Blob) => void; reject: (e: Error) => void }>();
  private nextRequest = 0;
  private readonly handler = (msg: unknown, buffers: DataView[]): void => this.receive(msg, buffers);

  constructor(private readonly model: CommModel) {
    super("open");
    model.on("msg:custom", this.handler);
  }

  send(event: ClientEvent, buffers?: ArrayBuffer[]): void {
    if (this.status === "closed") return;
    this.model.send(event, undefined, buffers);
  }

  /** A host message (not a protocol event), e.g. `{host: "reset", resumeThreadId}`. */
  sendHost(message: { host: string } & Record<string, unknown>): void {
    if (this.status === "closed") return;
    this.model.send(message);
  }

  /** Fetch an objectKey's bytes over the comm (no HTTP route needed). */
  fetchFile(objectKey: string, timeoutMs = 60_000): Promise<Blob> {
    return this.request({ host: "file_request", objectKey }, `file ${objectKey}`, timeoutMs);
  }

  /** A bundle built next to widget.js (`plotly.js`), sent by the kernel over the comm. */
  fetchAsset(name: string, timeoutMs = 120_000): Promise<Blob> {
    return this.request({ host: "asset_request", name }, name, timeoutMs);
  }

  /** A custom element's code, `public/elements/<name>.js` of the kernel's app folder. */
  fetchElementCode(name: string, timeoutMs = 60_000): Promise<Blob> {
    return this.request({ host: "element_code_request", name }, `public/elements/${name}.js`, timeoutMs);
  }

  private request(message: { host: string } & Record<string, unknown>, what: string, timeoutMs: number): Promise<Blob> {
    this.nextRequest += 1;
    const requestId = `f${this.nextRequest}`;
    return new Promise<Blob>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`nbchat: no answer for ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, {
        resolve: (b) => { clearTimeout(timer); resolve(b); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.model.send({ ...message, requestId });
    });
  }

  close(): void {
    this.model.off("msg:custom", this.handler);
    for (const p of this.pending.values()) p.reject(new Error("nbchat: view closed"));
    this.pending.clear();
    this.setStatus("closed");
  }

  private receive(msg: unknown, buffers: DataView[]): void {
    if (msg && typeof msg === "object" && (msg as { host?: unknown }).host === "file_response") {
      const res = msg as FileResponse;
      const waiter = this.pending.get(res.requestId);
      if (!waiter) return;
      this.pending.delete(res.requestId);
      const buf = buffers?.[0];
      if (res.error || !buf) waiter.reject(new Error(res.error ?? "nbchat: file has no bytes"));
      else waiter.resolve(new Blob([buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer],
        { type: res.mime ?? "application/octet-stream" }));
      return;
    }
    if (!msg || typeof msg !== "object" || !("events" in msg)) return;
    let events: ServerEvent[];
    try {
      events = decodeServerFrame(msg);
    } catch (err) {
      console.error(err);
      return;
    }
    this.deliver(events);
  }
}
