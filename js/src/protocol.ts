/**
 * The wire protocol, mirrored from `src/nbchat/protocol/__init__.py` (the source of truth).
 *
 * `tests/protocol/test_parity.py` parses the two marked sections below (one interface
 * per event, one field per line) and checks event names and field names against
 * `nbchat.protocol.CLIENT_EVENTS` / `SERVER_EVENTS`. Keep that layout when editing.
 */

import { MESSAGE_STEP_TYPES, type FeedbackDict, type StepDict, type SidebarDict, type ElementDict, type ActionDict, type AskSpec } from "./protocol_shapes";
export { MESSAGE_STEP_TYPES, type FeedbackDict, type StepDict, type SidebarDict, type ElementDict, type ActionDict, type AskSpec } from "./protocol_shapes";

export const PROTOCOL_VERSION = 1;

type Json = Record<string, unknown>;

// ---- BEGIN CLIENT EVENTS (checked by tests/protocol/test_parity.py)

export interface Hello {
  type: "hello";
  protocolVersion: number;
  sessionId?: string;
  lastSeq?: number;
  chatProfile?: string;
  resumeThreadId?: string;
  env?: Record<string, string>;
}

export interface UserMessage {
  type: "user_message";
  content: string;
  fileIds?: string[];
  command?: string;
  modes?: Record<string, string>;
  clientId?: string;
}

export interface EditMessage {
  type: "edit_message";
  id: string;
  content: string;
}

export interface ActionClick {
  type: "action";
  id: string;
}

/** A custom element's `updateElement(props)`: its new props (the server sends it again). */
export interface ElementUpdate {
  type: "element_update";
  id: string;
  props: Record<string, unknown>;
}

/** A custom element's `callAction({name, payload})`; answered by `call_action_result`. */
export interface CallAction {
  type: "call_action";
  callId: string;
  name: string;
  payload?: Record<string, unknown>;
}

export interface AskResponse {
  type: "ask_response";
  askId: string;
  actionId?: string;
  fileIds?: string[];
  values?: Json;
}

export interface Stop {
  type: "stop";
}

export interface SettingsUpdate {
  type: "settings_update";
  settings: Json;
}

export interface UserEnv {
  type: "user_env";
  env: Record<string, string>;
}

export interface SettingsEdit {
  type: "settings_edit";
  settings: Json;
}

export interface Feedback {
  type: "feedback";
  stepId: string;
  value: 0 | 1;
  comment?: string | null;
}

export interface FeedbackDelete {
  type: "feedback_delete";
  stepId: string;
}

export interface Fork {
  type: "fork";
  stepId: string;
}

export interface UploadStart {
  type: "upload_start";
  uploadId: string;
  name: string;
  mime: string;
  size: number;
  via?: "events" | "http";
}

export interface UploadChunk {
  type: "upload_chunk";
  uploadId: string;
}

export interface UploadEnd {
  type: "upload_end";
  uploadId: string;
}

export interface UploadCancel {
  type: "upload_cancel";
  uploadId: string;
}

export interface McpConnect {
  type: "mcp_connect";
  name: string;
  clientType: "stdio" | "streamable-http" | "sse";
  command?: string;
  args?: string[];
  url?: string;
  headers?: Record<string, string>;
}

export interface McpDisconnect {
  type: "mcp_disconnect";
  name: string;
}

/** What the embedding page posted to the chat page (an origin of `server.embed_origins`). */
export interface WindowMessage {
  type: "window_message";
  data: unknown;
}

/** The embedding page's answer to a `call_fn`. */
export interface CallFnResult {
  type: "call_fn_result";
  callId: string;
  result?: unknown;
  error?: string;
}

// ---- END CLIENT EVENTS

export type ClientEvent =
  | Hello
  | UserMessage
  | EditMessage
  | ActionClick
  | ElementUpdate
  | CallAction
  | AskResponse
  | Stop
  | SettingsUpdate
  | SettingsEdit
  | UserEnv
  | Feedback
  | FeedbackDelete
  | Fork
  | UploadStart
  | UploadChunk
  | UploadEnd
  | UploadCancel
  | McpConnect
  | McpDisconnect
  | WindowMessage
  | CallFnResult;

// ---- BEGIN SERVER EVENTS (checked by tests/protocol/test_parity.py)

export interface Welcome {
  type: "welcome";
  seq: number;
  protocolVersion: number;
  sessionId: string;
  threadId: string;
  user: Json | null;
  config: Json;
  chatProfiles: Json[];
  chatProfile: string | null;
  starters: Json[];
  starterCategories: Json[];
  commands: Json[];
  modes: Json[];
  httpUploads: boolean;
  forks?: boolean;
}

export interface Snapshot {
  type: "snapshot";
  seq: number;
  steps: StepDict[];
  elements: ElementDict[];
  actions: ActionDict[];
  ask: AskEvent | null;
  settings: SettingsEvent | null;
  running: boolean;
  sidebar?: SidebarDict | null;
}

export interface StepEvent {
  type: "step";
  seq: number;
  step: StepDict;
  // The clientId of the user_message this step echoes.
  clientId?: string;
}

export interface StepDelete {
  type: "step_delete";
  seq: number;
  id: string;
}

export interface TokenEvent {
  type: "token";
  seq: number;
  id: string;
  delta: string;
  replace?: boolean;
}

export interface ElementEvent {
  type: "element";
  seq: number;
  element: ElementDict;
}

export interface ElementDelete {
  type: "element_delete";
  seq: number;
  id: string;
}

/** The element sidebar (`cl.ElementSidebar`), see reducer.ts `nextSidebar`. */
export interface SidebarEvent {
  type: "sidebar";
  seq: number;
  title?: string;
  elements?: ElementDict[];
  key?: string | null;
}

export interface CallActionResult {
  type: "call_action_result";
  seq: number;
  callId: string;
  success: boolean;
  response?: unknown;
  error?: string;
}

export interface ActionEvent {
  type: "action";
  seq: number;
  action: ActionDict;
}

export interface ActionDelete {
  type: "action_delete";
  seq: number;
  id: string;
}

export interface AskEvent {
  type: "ask";
  seq: number;
  askId: string;
  kind: "text" | "action" | "file" | "element";
  stepId: string;
  timeout: number;
  spec: AskSpec;
}

export interface AskCancel {
  type: "ask_cancel";
  seq: number;
  askId: string;
}

export interface TaskStart {
  type: "task_start";
  seq: number;
}

export interface TaskEnd {
  type: "task_end";
  seq: number;
}

export interface SettingsEvent {
  type: "settings";
  seq: number;
  inputs: Json[];
}

export interface ModesEvent {
  type: "modes";
  seq: number;
  modes: Json[];
}

export interface CommandsEvent {
  type: "commands";
  seq: number;
  commands: Json[];
}

export interface FeedbackEvent {
  type: "feedback";
  seq: number;
  stepId: string;
  feedback: FeedbackDict | null;
}

export interface ThreadEvent {
  type: "thread";
  seq: number;
  id: string;
  name: string | null;
}

export interface UploadTicket {
  type: "upload_ticket";
  seq: number;
  uploadId: string;
  ticket: string;
}

export interface UploadDone {
  type: "upload_done";
  seq: number;
  uploadId: string;
  fileId: string;
}

export interface Forked {
  type: "forked";
  seq: number;
  threadId: string;
  fromThreadId: string;
  stepId: string;
}

export interface Notice {
  type: "notice";
  seq: number;
  level: "info" | "success" | "warning" | "error";
  message: string;
}

export interface ErrorEvent {
  type: "error";
  seq: number;
  code: string;
  message: string;
}

export interface McpStatus {
  type: "mcp_status";
  seq: number;
  name: string;
  clientType: string;
  status: "connected" | "failed" | "disconnected";
  tools: string[];
  error?: string;
}

/** For the embedding page: the served page posts `data` to its parent window. */
export interface WindowMessageEvent {
  type: "window_message";
  seq: number;
  data: unknown;
}

/** A function the embedding page runs (CopilotFunction); answered with `call_fn_result`. */
export interface CallFn {
  type: "call_fn";
  seq: number;
  callId: string;
  name: string;
  args: Record<string, unknown>;
  timeout: number;
}

/** Tokens an LLM call used; the client adds them up. */
export interface TokenUsage {
  type: "token_usage";
  seq: number;
  count: number;
}

// ---- END SERVER EVENTS

export type ServerEvent =
  | Welcome
  | Snapshot
  | StepEvent
  | StepDelete
  | TokenEvent
  | ElementEvent
  | ElementDelete
  | SidebarEvent
  | CallActionResult
  | ActionEvent
  | ActionDelete
  | AskEvent
  | AskCancel
  | TaskStart
  | TaskEnd
  | SettingsEvent
  | CommandsEvent
  | ModesEvent
  | FeedbackEvent
  | ThreadEvent
  | UploadTicket
  | UploadDone
  | Forked
  | Notice
  | ErrorEvent
  | McpStatus
  | WindowMessageEvent
  | CallFn
  | TokenUsage;

export type ServerEventType = ServerEvent["type"];
export type ClientEventType = ClientEvent["type"];

/** Every server event type; `satisfies` makes the compiler check the list is complete. */
export const SERVER_EVENT_TYPES = [
  "welcome", "snapshot", "step", "step_delete", "token", "element", "element_delete", "sidebar",
  "call_action_result", "action", "action_delete", "ask", "ask_cancel", "task_start", "task_end", "settings",
  "commands", "modes", "feedback", "thread", "upload_ticket", "upload_done", "forked", "notice", "error",
  "mcp_status",
  "window_message", "call_fn", "token_usage",
] as const satisfies readonly ServerEventType[];

export const CLIENT_EVENT_TYPES = [
  "hello", "user_message", "edit_message", "action", "element_update", "call_action", "ask_response", "stop",
  "settings_update", "settings_edit", "user_env", "feedback", "feedback_delete", "fork", "upload_start", "upload_chunk",
  "upload_end", "upload_cancel", "window_message", "call_fn_result", "mcp_connect", "mcp_disconnect",
] as const satisfies readonly ClientEventType[];

// Compile-time completeness: these fail to type-check if a union member is missing above.
type Missing<All, Listed> = Exclude<All, Listed>;
const _serverComplete: Missing<ServerEventType, (typeof SERVER_EVENT_TYPES)[number]>[] = [];
const _clientComplete: Missing<ClientEventType, (typeof CLIENT_EVENT_TYPES)[number]>[] = [];
void _serverComplete;
void _clientComplete;

export function isMessageStep(step: Pick<StepDict, "type">): boolean {
  return MESSAGE_STEP_TYPES.has(step.type);
}
