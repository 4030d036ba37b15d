/**
 * Editing a sent user message in place (Chainlit's pencil button, with `features.edit_message`):
 * the text is replaced by a textbox "Edit message" with "Cancel" and "Confirm". Confirm sends
 * `edit_message`: the server removes the later steps and runs on_message again.
 *
 * Retry of the last reply: Chainlit has no such button; here it re-sends the user message the
 * reply answers, as an edit with the same content (same server path: later steps removed,
 * on_message again).
 */
import { type StepDict, isMessageStep } from "../protocol";
import { type ChatState, anyTaskRunning } from "../store/state";
import { h } from "./dom";
import { icon } from "./icons";
import { t } from "./i18n";

/** A pencil. */
export const pencilIcon = (): SVGSVGElement => icon([["path", "M11 2.5l2.5 2.5L6 12.5 3 13l.5-3L11 2.5z"]]);
/** A circular arrow. */
export const retryIcon = (): SVGSVGElement => icon([["path", "M13 8a5 5 0 1 1-1.5-3.5M13 2.5v3h-3"]]);

/** The inline editor; `done(text | null)` is called once (null: cancelled). */
export function inlineEditor(text: string, done: (text: string | null) => void): HTMLElement {
  const area = h("textarea", { class: "nbc-input nbc-edit-box", rows: Math.min(8, text.split("\n").length + 1),
    "aria-label": t("chat.messages.edit") });
  area.value = text;
  const confirm = h("button", { type: "button", class: "nbc-btn nbc-primary" }, t("common.actions.confirm"));
  const cancel = h("button", { type: "button", class: "nbc-btn" }, t("common.actions.cancel"));
  let finished = false;
  const finish = (value: string | null): void => {
    if (finished) return;
    finished = true;
    done(value);
  };
  confirm.addEventListener("click", () => finish(area.value.trim() ? area.value : null));
  cancel.addEventListener("click", () => finish(null));
  area.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.stopPropagation(); finish(null); }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); finish(area.value.trim() ? area.value : null); }
  });
  const box = h("div", { class: "nbc-edit" }, area, h("div", { class: "nbc-row" }, cancel, confirm));
  queueMicrotask(() => area.focus());
  return box;
}

function messages(state: ChatState): StepDict[] {
  return state.order.map((id) => state.steps[id]).filter((s): s is StepDict => s !== undefined && isMessageStep(s));
}

/** The id of the reply that may be retried: the last message, when it is a finished
 * assistant reply to some user message and nothing runs; else null. */
export function retryableReply(state: ChatState, editEnabled: boolean): string | null {
  if (!editEnabled || anyTaskRunning(state)) return null;
  const msgs = messages(state);
  const last = msgs.at(-1);
  if (last?.type !== "assistant_message" || last.streaming) return null;
  return msgs.some((m) => m.type === "user_message") ? last.id : null;
}

/** The user message a reply answers (the closest one before it) and its text. */
export function retryMessage(state: ChatState, replyId: string): { id: string; content: string } | null {
  const msgs = messages(state);
  const at = msgs.findIndex((m) => m.id === replyId);
  const user = msgs.slice(0, at < 0 ? msgs.length : at).reverse().find((m) => m.type === "user_message");
  if (!user) return null;
  return { id: user.id, content: typeof user.output === "string" ? user.output : JSON.stringify(user.output) };
}
