/**
 * Widget host messages, mirrored from `src/nbchat/protocol/host_messages.py` (the source
 * of truth): what the notebook widget's view and its kernel side say to each other besides
 * chat events, on the same comm, told apart by a `host` key instead of a `type`.
 *
 * `tests/protocol/test_parity.py` parses the two marked sections below (one interface
 * per message, one field per line) and checks them against `nbchat.protocol.HOST_REQUESTS`
 * / `HOST_REPLIES`. Keep that layout when editing.
 */

// ---- BEGIN HOST REQUESTS (checked by tests/protocol/test_parity.py)

/** The bytes of an element or upload of this chat (no `files_url`: no server extension). */
export interface FileRequest {
  host: "file_request";
  requestId: string;
  objectKey: string;
}

/** A bundle built next to widget.js (`plotly.js`): the view has no URL to import it from. */
export interface AssetRequest {
  host: "asset_request";
  requestId: string;
  name: string;
}

/** Replace the widget's chat with a fresh session; `hello` follows (with `resumeThreadId`). */
export interface Reset {
  host: "reset";
  resumeThreadId?: string;
}

// ---- END HOST REQUESTS

// ---- BEGIN HOST REPLIES (checked by tests/protocol/test_parity.py)

/** The answer to a request: `mime` and the bytes as buffers[0], or `error`. */
export interface FileResponse {
  host: "file_response";
  requestId: string;
  mime?: string;
  error?: string;
}

// ---- END HOST REPLIES

export type HostRequest = FileRequest | AssetRequest | Reset;
export type HostReply = FileResponse;

/** A request as the caller writes it: the transport adds the `requestId`. */
export type Unsent<T> = T extends { requestId: string } ? Omit<T, "requestId"> : never;

/** Whether a comm message is a host reply (and not a batch of chat events). */
export function isFileResponse(msg: unknown): msg is FileResponse {
  if (!msg || typeof msg !== "object") return false;
  const m = msg as { host?: unknown; requestId?: unknown };
  return m.host === "file_response" && typeof m.requestId === "string";
}
