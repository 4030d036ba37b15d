/** User intent → client events. Pure builders; the app sends what they return. */
import {
  type ActionClick, type AskResponse, type ClientEvent, type EditMessage, type Feedback,
  type FeedbackDelete, type Fork, type Hello, type McpConnect, type McpDisconnect, PROTOCOL_VERSION, type SettingsEdit, type SettingsUpdate,
  type Stop,
  type UploadCancel, type UploadChunk, type UploadEnd, type UploadStart, type UserEnv,
  type UserMessage,
} from "../protocol";

export function hello(opts: { sessionId?: string | null; lastSeq?: number | null;
  chatProfile?: string | null; resumeThreadId?: string | null } = {}): Hello {
  const ev: Hello = { type: "hello", protocolVersion: PROTOCOL_VERSION };
  if (opts.sessionId) ev.sessionId = opts.sessionId;
  if (opts.lastSeq !== undefined && opts.lastSeq !== null) ev.lastSeq = opts.lastSeq;
  if (opts.chatProfile) ev.chatProfile = opts.chatProfile;
  if (opts.resumeThreadId) ev.resumeThreadId = opts.resumeThreadId;
  return ev;
}

export function userMessage(content: string, opts: { fileIds?: string[]; command?: string | null;
  clientId?: string; modes?: Record<string, string> } = {}): UserMessage {
  const ev: UserMessage = { type: "user_message", content };
  if (opts.fileIds && opts.fileIds.length) ev.fileIds = opts.fileIds;
  if (opts.command) ev.command = opts.command;
  if (opts.modes && Object.keys(opts.modes).length) ev.modes = opts.modes;
  if (opts.clientId) ev.clientId = opts.clientId;
  return ev;
}

export const editMessage = (id: string, content: string): EditMessage =>
  ({ type: "edit_message", id, content });

export const actionClick = (id: string): ActionClick => ({ type: "action", id });

export function askResponse(askId: string, answer: { actionId?: string; fileIds?: string[];
  values?: Record<string, unknown> }): AskResponse {
  return { type: "ask_response", askId, ...answer };
}

export const stop = (): Stop => ({ type: "stop" });

export const settingsUpdate = (settings: Record<string, unknown>): SettingsUpdate =>
  ({ type: "settings_update", settings });

export const userEnv = (env: Record<string, string>): UserEnv => ({ type: "user_env", env });

export const settingsEdit = (settings: Record<string, unknown>): SettingsEdit =>
  ({ type: "settings_edit", settings });

export function feedback(stepId: string, value: 0 | 1, comment?: string | null): Feedback {
  const ev: Feedback = { type: "feedback", stepId, value };
  if (comment) ev.comment = comment;
  return ev;
}

export const feedbackDelete = (stepId: string): FeedbackDelete =>
  ({ type: "feedback_delete", stepId });

export const fork = (stepId: string): Fork => ({ type: "fork", stepId });

export const uploadStart = (uploadId: string, file: { name: string; type: string; size: number },
  via: "events" | "http" = "events"): UploadStart => ({
  type: "upload_start", uploadId, name: file.name, mime: file.type || "application/octet-stream",
  size: file.size, ...(via === "http" ? { via } : {}),
});

export const uploadChunk = (uploadId: string): UploadChunk => ({ type: "upload_chunk", uploadId });
export const uploadEnd = (uploadId: string): UploadEnd => ({ type: "upload_end", uploadId });
export const uploadCancel = (uploadId: string): UploadCancel => ({ type: "upload_cancel", uploadId });

let counter = 0;
/** A client-side id (uploads, clientId of user messages); unique within the page. */
export function clientId(prefix: string): string {
  counter += 1;
  const rand = Math.random().toString(36).slice(2, 10);
  return `${prefix}_${Date.now().toString(36)}${counter.toString(36)}${rand}`;
}

export type { ClientEvent };

/** Add an MCP server to the chat: stdio runs `command` (a full path the app allows) with
 * `args`; streamable-http and sse reach `url` with `headers`. */
export function mcpConnect(name: string, clientType: McpConnect["clientType"],
  target: { command?: string; args?: string[]; url?: string; headers?: Record<string, string> }): McpConnect {
  return { type: "mcp_connect", name, clientType, ...target };
}

export const mcpDisconnect = (name: string): McpDisconnect => ({ type: "mcp_disconnect", name });
