/**
 * The notebook transport: anywidget custom messages over the kernel comm.
 *
 *   JS → Python: model.send(event, undefined, buffers?)  — one protocol event per message;
 *                upload_chunk carries its bytes as buffers[0].
 *   Python → JS: msg:custom {events: [...]}              — one batch of server events.
 *
 * Host messages (not chat events) share the channel under a `host` key: file_request,
 * asset_request, element_code_request and reset from the view, file_response (bytes as buffers[0]) from the
 * kernel. Their types are in ../host_messages.ts, documented in docs/protocol.md.
 */
import {
  type AssetRequest, type ElementCodeRequest, type FileRequest, type HostRequest, type Reset, type Unsent, isFileResponse,
} from "../host_messages";
import { type ClientEvent, type ServerEvent } from "../protocol";
import { decodeServerFrame } from "../server_frames";
import { TransportBase } from "./base";

/** The part of anywidget's model this module uses. */
export interface CommModel {
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(name: "msg:custom", cb: (msg: unknown, buffers: DataView[]) => void): void;
  off(name: "msg:custom", cb: (msg: unknown, buffers: DataView[]) => void): void;
  get(name: string): unknown;
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

  /** A host message that expects no answer: `{host: "reset", resumeThreadId?}`. */
  sendHost(message: Reset): void {
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

  private request(message: Unsent<FileRequest> | Unsent<AssetRequest> | Unsent<ElementCodeRequest>, what: string, timeoutMs: number): Promise<Blob> {
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
      const full: HostRequest = { ...message, requestId };
      this.model.send(full);
    });
  }

  close(): void {
    this.model.off("msg:custom", this.handler);
    for (const p of this.pending.values()) p.reject(new Error("nbchat: view closed"));
    this.pending.clear();
    this.setStatus("closed");
  }

  private receive(msg: unknown, buffers: DataView[]): void {
    if (isFileResponse(msg)) {
      const res = msg;
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
