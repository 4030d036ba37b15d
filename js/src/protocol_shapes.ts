/**
 * The shapes the protocol's events carry (steps, elements, actions, asks, feedback),
 * mirrored from `src/nbchat/types.py` and `src/nbchat/protocol/server_events.py`; the
 * events themselves are in ./protocol.ts, which re-exports these.
 */

type Json = Record<string, unknown>;

export interface FeedbackDict {
  forId: string;
  id?: string | null;
  value: 0 | 1;
  comment?: string | null;
  threadId?: string | null;
}

export interface StepDict {
  id: string;
  name: string;
  type: string;
  threadId: string;
  parentId: string | null;
  input: string;
  output: string;
  isError: boolean;
  createdAt: string;
  start: string | null;
  end: string | null;
  metadata: Json;
  tags: string[] | null;
  language: string | null;
  generation: Json | null;
  showInput: boolean | string;
  defaultOpen: boolean;
  streaming: boolean;
  waitForAnswer: boolean;
  cancelled?: boolean;
  command?: string | null;
  modes?: Record<string, string> | null;
  icon?: string | null;
  autoCollapse?: boolean;
  feedback?: FeedbackDict | null;
}

/** What the element sidebar shows (`SidebarEvent`s resolved; a snapshot's `sidebar`). */
export interface SidebarDict {
  title: string;
  elements: ElementDict[];
  key: string | null;
}

export interface ElementDict {
  id: string;
  threadId: string | null;
  type: string;
  name: string;
  display: string;
  forId: string | null;
  mime: string | null;
  size: string | null;
  language: string | null;
  url: string | null;
  objectKey: string | null;
  content?: string | null;
  props?: Json;
  page?: number | null;
  autoPlay?: boolean | null;
  playerConfig?: Json | null;
  chainlitKey?: string | null;
}

export interface ActionDict {
  id: string;
  name: string;
  forId: string | null;
  payload: Json;
  label: string;
  tooltip: string;
  icon: string | null;
}

export interface AskSpec {
  accept?: string[] | Record<string, string[]>;
  maxSizeMb?: number;
  maxFiles?: number;
  actions?: ActionDict[];
  element?: ElementDict;
}

export const MESSAGE_STEP_TYPES: ReadonlySet<string> = new Set([
  "user_message",
  "assistant_message",
  "system_message",
]);
