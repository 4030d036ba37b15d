import type { CustomElementHost } from "../custom/host";
import type { ClientEvent, ElementDict, ServerEvent } from "../protocol";

export type TransportStatus = "connecting" | "open" | "closed";

/** nbchat.server.standalone.SIGNED_OUT_CLOSE: logged out, reconnecting would only fail. */
export const SIGNED_OUT_CODE = 4401;
/** Close codes whose reason the user should see (what they sent was refused). */
export const REFUSED_CODES: ReadonlySet<number> = new Set([1007, 1009]);

/** How the server last closed the connection (WebSocket close code and reason). */
export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * Moves protocol events; knows nothing about messages. `open` fires on every
 * (re)connection: the app answers it by sending `hello` with its `lastSeq`.
 */
export interface Transport {
  send(event: ClientEvent, buffers?: ArrayBuffer[]): void;
  onBatch(listener: (events: ServerEvent[]) => void): () => void;
  onStatus(listener: (status: TransportStatus) => void): () => void;
  readonly status: TransportStatus;
  /** The server's last close, when it said why (read in an onStatus listener). */
  readonly lastClose?: CloseInfo | null;
  close(): void;
}

/** What the page or notebook host gives the UI besides the transport. */
export interface Host {
  transport: Transport;
  /**
   * Turn an element's server-held bytes (`objectKey`) into a URL the browser can load
   * (an HTTP route, or a `blob:` URL made from bytes fetched over the comm). Called
   * once per element; the result may be revoked by `releaseFile` when the element goes.
   */
  resolveFile(objectKey: string, element: ElementDict): Promise<string>;
  releaseFile?(url: string): void;
  /** A URL to `import()` a separately built bundle from (`plotly.js`). */
  scriptUrl?(name: "plotly.js"): Promise<string>;
  /** Where custom elements' code and the frame runtime come from (none: props as text). */
  customElements?: CustomElementHost;
  /** The avatar image URL for a message author (none: initials are shown). */
  avatarUrl?(author: string): string | null;
}

/** Bytes per `upload_chunk` buffer. */
export const UPLOAD_CHUNK_BYTES = 256 * 1024;
