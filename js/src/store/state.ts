import type {
  ActionDict, AskEvent, ElementDict, McpStatus, Notice, ErrorEvent, SettingsEvent, SidebarDict, StepDict, Welcome,
} from "../protocol";

/** Everything the UI shows, derived only from server events (see reducer.ts). */
export interface ChatState {
  welcome: Welcome | null;
  threadId: string | null;
  threadName: string | null;
  /** Steps by id; `order` keeps first-seen order (snapshot order, then arrival). */
  steps: Readonly<Record<string, StepDict>>;
  order: readonly string[];
  elements: Readonly<Record<string, ElementDict>>;
  actions: Readonly<Record<string, ActionDict>>;
  ask: AskEvent | null;
  settings: SettingsEvent | null;
  /** The element sidebar (`cl.ElementSidebar`); null: closed. */
  sidebar: SidebarDict | null;
  commands: readonly Record<string, unknown>[];
  /** The composer's mode pickers (`welcome.modes`, then `modes` events). */
  modes: readonly Record<string, unknown>[];
  /** Callbacks in flight: `task_start` adds one, `task_end` takes one away (never below 0), as
   * SessionState.running does in state.py. A count, not a flag: the `task_end` of one callback
   * must not hide Stop while an overlapping one still runs. Read it through `anyTaskRunning`. */
  runningTasks: number;
  /** uploadId → fileId, filled by `upload_done`. */
  uploads: Readonly<Record<string, string>>;
  /** Most recent notices and errors, newest last, capped. */
  notices: readonly (Notice | ErrorEvent)[];
  /** The chat's connected MCP servers by name (`mcp_status` connected; gone otherwise). */
  mcpServers: Readonly<Record<string, McpStatus>>;
  /** Tokens the app's LLM calls used, added up from `token_usage` (Chainlit's tokenCount). */
  tokenCount: number;
}

export const MAX_NOTICES = 20;

export function initialState(): ChatState {
  return {
    welcome: null,
    threadId: null,
    threadName: null,
    steps: {},
    order: [],
    elements: {},
    actions: {},
    ask: null,
    settings: null,
    sidebar: null,
    commands: [],
    modes: [],
    runningTasks: 0,
    uploads: {},
    notices: [],
    mcpServers: {},
    tokenCount: 0,
  };
}

/** True while any callback of the session runs (the composer shows Stop). */
export function anyTaskRunning(state: ChatState): boolean {
  return state.runningTasks > 0;
}

/** The `config` sub-object at a dotted path of welcome.config, or undefined. */
export function configValue(state: ChatState, path: string): unknown {
  let value: unknown = state.welcome?.config;
  for (const key of path.split(".")) {
    if (!value || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
