/** File checks (accept/size/count, before anything is sent) and chunked uploads over events. */
import { clientId, uploadChunk, uploadEnd, uploadStart } from "../store/actions";
import type { ClientEvent } from "../protocol";
import { UPLOAD_CHUNK_BYTES } from "../transports/types";

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
  if (files.length === 0) return "Choose at least one file.";
  if (files.length > maxFiles) return `Choose at most ${maxFiles} file${maxFiles === 1 ? "" : "s"}.`;
  for (const f of files) {
    if (!acceptsFile(f, spec.accept)) {
      return `${f.name}: this file type is not accepted (${acceptPatterns(spec.accept).join(", ")}).`;
    }
    if (spec.maxSizeMb !== undefined && f.size > spec.maxSizeMb * 1024 * 1024) {
      return `${f.name} is larger than ${spec.maxSizeMb} MB.`;
    }
  }
  return null;
}

type Send = (event: ClientEvent, buffers?: ArrayBuffer[]) => void;

/**
 * upload_start → upload_chunk × n (bytes in buffers[0]) → upload_end, then waits for the
 * server's `upload_done` carrying the fileId. The app calls `done()` on that event.
 */
export class Uploader {
  private waiting = new Map<string, { resolve: (fileId: string) => void; reject: (e: Error) => void }>();

  constructor(private readonly send: Send, private readonly timeoutMs = 120_000) {}

  async upload(file: File, onProgress?: (fraction: number) => void): Promise<string> {
    const uploadId = clientId("up");
    const finished = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(uploadId);
        reject(new Error(`${file.name}: the server did not confirm the upload`));
      }, this.timeoutMs);
      this.waiting.set(uploadId, {
        resolve: (id) => { clearTimeout(timer); resolve(id); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
    this.send(uploadStart(uploadId, file));
    for (let offset = 0; offset < file.size; offset += UPLOAD_CHUNK_BYTES) {
      const chunk = await file.slice(offset, offset + UPLOAD_CHUNK_BYTES).arrayBuffer();
      this.send(uploadChunk(uploadId), [chunk]);
      onProgress?.(Math.min(1, (offset + chunk.byteLength) / file.size));
    }
    this.send(uploadEnd(uploadId));
    return finished;
  }

  done(uploadId: string, fileId: string): void {
    this.waiting.get(uploadId)?.resolve(fileId);
    this.waiting.delete(uploadId);
  }

  /** An error event while uploads are pending fails them all (the server names the cause). */
  failAll(message: string): void {
    for (const w of this.waiting.values()) w.reject(new Error(message));
    this.waiting.clear();
  }

  get pending(): number {
    return this.waiting.size;
  }
}
