/** File checks (accept/size/count, before anything is sent) and uploads, over HTTP or events. */
import { clientId, uploadCancel, uploadChunk, uploadEnd, uploadStart } from "../store/actions";
import type { ClientEvent } from "../protocol";
import { UPLOAD_CHUNK_BYTES } from "../transports/types";
import { t } from "./i18n";

export interface UploadSpec {
  accept?: string[] | Record<string, string[]>;
  maxSizeMb?: number;
  maxFiles?: number;
}

/** Flatten an accept spec (list, or {mime: [extensions]}) into input[accept] patterns. */
export function acceptPatterns(accept: UploadSpec["accept"]): string[] {
  if (!accept) return [];
  if (Array.isArray(accept)) return accept;
  return Object.entries(accept).flatMap(([mime, exts]) => [mime, ...exts]);
}

export function acceptsFile(file: { name: string; type: string }, accept: UploadSpec["accept"]): boolean {
  const patterns = acceptPatterns(accept).map((p) => p.trim().toLowerCase()).filter(Boolean);
  if (!patterns.length || patterns.includes("*/*") || patterns.includes("*")) return true;
  const name = file.name.toLowerCase();
  const type = (file.type || "").toLowerCase();
  return patterns.some((p) => {
    if (p.startsWith(".")) return name.endsWith(p);
    if (p.endsWith("/*")) return type.startsWith(p.slice(0, -1));
    return type === p;
  });
}

/** A message saying what is wrong with the selection, or null when it may be sent. */
export function checkFiles(files: readonly { name: string; type: string; size: number }[],
  spec: UploadSpec): string | null {
  const maxFiles = spec.maxFiles ?? Infinity;
  if (files.length === 0) return t("upload.chooseOne");
  if (files.length > maxFiles) return t(maxFiles === 1 ? "upload.atMostOne" : "upload.atMost", { count: maxFiles });
  for (const f of files) {
    if (!acceptsFile(f, spec.accept)) {
      return t("upload.typeRefused", { name: f.name, accepted: acceptPatterns(spec.accept).join(", ") });
    }
    if (spec.maxSizeMb !== undefined && f.size > spec.maxSizeMb * 1024 * 1024) {
      return `${f.name} is larger than ${spec.maxSizeMb} MB.`;
    }
  }
  return null;
}

type Send = (event: ClientEvent, buffers?: ArrayBuffer[]) => void;

/** PUTs an upload's bytes to its ticket (ApiClient.putUpload); rejects with an ApiError. */
export type PutUpload = (ticket: string, file: File, onProgress?: (fraction: number) => void) => Promise<void>;

interface Waiter<T> { resolve: (value: T) => void; reject: (e: Error) => void }

/**
 * Sends a file and resolves with the server's fileId (docs/protocol.md, uploads).
 *
 * Over HTTP when the server takes upload bodies that way (`welcome.httpUploads`) and the
 * page knows where its API is (`setHttp`): upload_start {via: "http"} → upload_ticket →
 * PUT → upload_end → upload_done. Big files then never travel through the notebook comm or
 * WebSocket frames. A 404 or network failure of the PUT (e.g. a remote kernel whose tickets
 * the Jupyter server cannot see) cancels that attempt and sends the file as events, as every
 * later upload then is: upload_start → upload_chunk × n (bytes in buffers[0]) → upload_end.
 * The app calls `ticket()` and `done()` on the server's events.
 */
export class Uploader {
  private waiting = new Map<string, Waiter<string>>();
  private tickets = new Map<string, Waiter<string>>();
  private put: PutUpload | null = null;
  private serverTakesHttp = false;

  constructor(private readonly send: Send, private readonly timeoutMs = 120_000) {}

  /** Where upload bodies can be PUT (null: events only). */
  setHttp(put: PutUpload | null): void {
    this.put = put;
  }

  /** What the server's welcome said (`httpUploads`). */
  setServerHttp(enabled: boolean): void {
    this.serverTakesHttp = enabled;
  }

  get viaHttp(): boolean {
    return this.put !== null && this.serverTakesHttp;
  }

  async upload(file: File, onProgress?: (fraction: number) => void): Promise<string> {
    if (this.viaHttp) {
      try {
        return await this.uploadHttp(file, onProgress);
      } catch (err) {
        const status = (err as { status?: unknown })?.status;
        if (status !== 404 && status !== 0) throw err;
        this.put = null; // the API cannot take this chat's uploads: events from now on
      }
    }
    return this.uploadEvents(file, onProgress);
  }

  private async uploadHttp(file: File, onProgress?: (fraction: number) => void): Promise<string> {
    const put = this.put as PutUpload;
    const uploadId = clientId("up");
    const ticket = this.expect(this.tickets, uploadId, `${file.name}: the server gave no upload ticket`);
    this.send(uploadStart(uploadId, file, "http"));
    const t = await ticket;
    const finished = this.expect(this.waiting, uploadId, `${file.name}: the server did not confirm the upload`);
    try {
      await put(t, file, onProgress);
    } catch (err) {
      finished.catch(() => undefined); // the PUT's error is the one reported
      this.settle(this.waiting, uploadId)?.reject(err as Error);
      this.send(uploadCancel(uploadId));
      throw err;
    }
    this.send(uploadEnd(uploadId));
    return finished;
  }

  private async uploadEvents(file: File, onProgress?: (fraction: number) => void): Promise<string> {
    const uploadId = clientId("up");
    const finished = this.expect(this.waiting, uploadId, `${file.name}: the server did not confirm the upload`);
    this.send(uploadStart(uploadId, file));
    for (let offset = 0; offset < file.size; offset += UPLOAD_CHUNK_BYTES) {
      const chunk = await file.slice(offset, offset + UPLOAD_CHUNK_BYTES).arrayBuffer();
      this.send(uploadChunk(uploadId), [chunk]);
      onProgress?.(Math.min(1, (offset + chunk.byteLength) / file.size));
    }
    this.send(uploadEnd(uploadId));
    return finished;
  }

  private expect(map: Map<string, Waiter<string>>, uploadId: string, timeoutMessage: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        map.delete(uploadId);
        reject(new Error(timeoutMessage));
      }, this.timeoutMs);
      map.set(uploadId, {
        resolve: (id) => { clearTimeout(timer); resolve(id); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  }

  private settle(map: Map<string, Waiter<string>>, uploadId: string): Waiter<string> | undefined {
    const waiter = map.get(uploadId);
    map.delete(uploadId);
    return waiter;
  }

  ticket(uploadId: string, ticket: string): void {
    this.settle(this.tickets, uploadId)?.resolve(ticket);
  }

  done(uploadId: string, fileId: string): void {
    this.settle(this.waiting, uploadId)?.resolve(fileId);
  }

  /** An error event while uploads are pending fails them all (the server names the cause). */
  failAll(message: string): void {
    for (const map of [this.tickets, this.waiting]) {
      for (const w of map.values()) w.reject(new Error(message));
      map.clear();
    }
  }

  get pending(): number {
    return this.waiting.size + this.tickets.size;
  }
}
