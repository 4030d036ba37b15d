import type { ServerEvent, SidebarDict, SidebarEvent, StepDict } from "../protocol";
import { type ChatState, MAX_NOTICES, initialState } from "./state";

function without<T>(record: Readonly<Record<string, T>>, id: string): Record<string, T> {
  if (!(id in record)) return record as Record<string, T>;
  const copy = { ...record };
  delete copy[id];
  return copy;
}

/** Ids of `id` and every step nested under it (a deleted step takes its children along). */
function subtree(steps: Readonly<Record<string, StepDict>>, id: string): Set<string> {
  const doomed = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const step of Object.values(steps)) {
      if (step.parentId && doomed.has(step.parentId) && !doomed.has(step.id)) {
        doomed.add(step.id);
        grew = true;
      }
    }
  }
  return doomed;
}

/** The sidebar after a `sidebar` event (state.py `next_sidebar` applies the same rules):
 * a title opens it; an empty element list closes it; elements replace the shown ones
 * unless the open sidebar has the same non-null key. */
export function nextSidebar(shown: SidebarDict | null, event: SidebarEvent): SidebarDict | null {
  const title = event.title ?? shown?.title ?? "";
  if (event.elements === undefined) return { title, elements: shown?.elements ?? [], key: shown?.key ?? null };
  if (event.elements.length === 0) return null;
  const key = event.key ?? null;
  if (shown && key !== null && shown.key === key) return { ...shown, title };
  return { title, elements: event.elements, key };
}

/** Pure: state × server event → new state. Unknown ids are ignored, never thrown on. */
export function reduce(state: ChatState, event: ServerEvent): ChatState {
  switch (event.type) {
    case "welcome":
      return {
        ...state,
        welcome: event,
        threadId: event.threadId,
        commands: event.commands,
        modes: event.modes,
      };
    case "snapshot": {
      const steps: Record<string, StepDict> = {};
      for (const step of event.steps) steps[step.id] = step;
      const elements = Object.fromEntries(event.elements.map((e) => [e.id, e]));
      const actions = Object.fromEntries(event.actions.map((a) => [a.id, a]));
      return {
        ...initialState(),
        welcome: state.welcome,
        threadId: state.threadId,
        threadName: state.threadName,
        commands: state.commands,
        modes: state.modes,
        steps,
        order: event.steps.map((s) => s.id),
        elements,
        actions,
        ask: event.ask,
        settings: event.settings,
        sidebar: event.sidebar ?? null,
        // A snapshot says only whether something runs: count it as one task, as state.py does.
        runningTasks: event.running ? 1 : 0,
        tokenCount: state.tokenCount,
      };
    }
    case "step": {
      const known = event.step.id in state.steps;
      return {
        ...state,
        steps: { ...state.steps, [event.step.id]: event.step },
        order: known ? state.order : [...state.order, event.step.id],
      };
    }
    case "step_delete": {
      if (!(event.id in state.steps)) return state;
      const doomed = subtree(state.steps, event.id);
      const steps = { ...state.steps };
      for (const id of doomed) delete steps[id];
      const elements = Object.fromEntries(
        Object.entries(state.elements).filter(([, e]) => !(e.forId && doomed.has(e.forId))),
      );
      return { ...state, steps, elements, order: state.order.filter((id) => !doomed.has(id)) };
    }
    case "token": {
      const step = state.steps[event.id];
      if (!step) return state;
      const output = event.replace ? event.delta : step.output + event.delta;
      return { ...state, steps: { ...state.steps, [event.id]: { ...step, output } } };
    }
    case "element":
      return { ...state, elements: { ...state.elements, [event.element.id]: event.element } };
    case "sidebar":
      return { ...state, sidebar: nextSidebar(state.sidebar, event) };
    case "element_delete":
      return { ...state, elements: without(state.elements, event.id) };
    case "action":
      return { ...state, actions: { ...state.actions, [event.action.id]: event.action } };
    case "action_delete":
      return { ...state, actions: without(state.actions, event.id) };
    case "ask":
      return { ...state, ask: event };
    case "ask_cancel":
      return state.ask?.askId === event.askId ? { ...state, ask: null } : state;
    case "task_start":
      return { ...state, runningTasks: state.runningTasks + 1 };
    case "task_end":
      return { ...state, runningTasks: Math.max(0, state.runningTasks - 1) };
    case "settings":
      return { ...state, settings: event };
    case "commands":
      return { ...state, commands: event.commands };
    case "modes":
      return { ...state, modes: event.modes };
    case "feedback": {
      const step = state.steps[event.stepId];
      if (!step) return state;
      return {
        ...state,
        steps: { ...state.steps, [event.stepId]: { ...step, feedback: event.feedback } },
      };
    }
    case "thread":
      return { ...state, threadId: event.id, threadName: event.name };
    case "upload_ticket":
    case "call_action_result":
      return state; // only the uploader / the custom element that called needs it
    case "forked":
      return state; // the host opens the new thread (page.ts, widget.ts)
    case "upload_done":
      return { ...state, uploads: { ...state.uploads, [event.uploadId]: event.fileId } };
    case "mcp_status":
      return { ...state, mcpServers: event.status === "connected"
        ? { ...state.mcpServers, [event.name]: event } : without(state.mcpServers, event.name) };
    case "token_usage":
      return { ...state, tokenCount: state.tokenCount + event.count };
    case "window_message":
    case "call_fn":
      return state; // for the embedding page: the served page relays them (embedding.ts)
    case "notice":
    case "error":
      return { ...state, notices: [...state.notices, event].slice(-MAX_NOTICES) };
    default: {
      const never: never = event;
      void never;
      return state;
    }
  }
}

export function reduceAll(state: ChatState, events: readonly ServerEvent[]): ChatState {
  let next = state;
  for (const event of events) next = reduce(next, event);
  return next;
}
