/**
 * The conversation list: one view per step, nested under its parent step, with each
 * element and action attached to the step it is for. The app tells it what changed; it
 * patches only those nodes. Children, elements and actions that arrive before their step
 * wait and move under it when it comes.
 */
import type { ActionDict, ClientEvent, ElementDict, StepDict } from "../protocol";
import { isMessageStep } from "../protocol";
import * as act from "../store/actions";
import type { ChatState } from "../store/state";
import type { NodeView, ViewContext } from "./context";
import { h } from "./dom";
import { pushProps } from "../custom/host";
import { type ElementContext, renderElement } from "./element";
import { MessageView } from "./message";
import { StepView } from "./step";

export interface ConversationHooks {
  /** The store's current state (elements and actions waiting for a step). */
  state(): ChatState;
  send(event: ClientEvent): void;
  /** Open an element shown as a link (display "side" or "page"); `opener` gets focus back. */
  showElement(id: string, display: string, opener?: HTMLElement): void;
  /** Task lists show in their own panel, not in the message list. */
  showTaskList?(el: ElementDict): void;
  /** An element is gone (a panel showing it closes). */
  elementRemoved?(id: string): void;
}

export class Conversation {
  readonly el = h("div", { class: "nbc-list" });
  private views = new Map<string, NodeView>();
  private orphans = new Map<string, Set<string>>(); // parentId → child ids waiting for it
  private elementViews = new Map<string, HTMLElement>();
  private actionViews = new Map<string, HTMLElement>();

  constructor(
    private readonly viewCtx: ViewContext,
    private readonly elementCtx: ElementContext,
    /** Where actions for no step go (the bar above the composer). */
    private readonly globalActions: HTMLElement,
    private readonly hooks: ConversationHooks,
  ) {}

  /** Drop every view, then show the whole state again (snapshot, reset, profile switch). */
  rebuild(state: ChatState): void {
    for (const view of this.views.values()) view.destroy();
    this.views.clear();
    this.orphans.clear();
    for (const el of this.elementViews.values()) el.remove();
    this.elementViews.clear();
    for (const el of this.actionViews.values()) el.remove();
    this.actionViews.clear();
    this.el.replaceChildren();
    for (const id of state.order) {
      const step = state.steps[id];
      if (step) this.upsertStep(step);
    }
    for (const el of Object.values(state.elements)) this.upsertElement(el);
    for (const a of Object.values(state.actions)) this.upsertAction(a);
  }

  upsertStep(step: StepDict): void {
    const existing = this.views.get(step.id);
    if (existing) {
      existing.update(step);
      return;
    }
    const view = isMessageStep(step) ? new MessageView(step, this.viewCtx) : new StepView(step, this.viewCtx);
    this.views.set(step.id, view);
    const parent = step.parentId ? this.views.get(step.parentId) : undefined;
    if (parent && !isMessageStep(step)) parent.childrenEl.append(view.el);
    else {
      this.el.append(view.el);
      if (step.parentId && !parent && !isMessageStep(step)) {
        const waiting = this.orphans.get(step.parentId) ?? new Set<string>();
        waiting.add(step.id);
        this.orphans.set(step.parentId, waiting);
      }
    }
    // Children that arrived before this step move under it now.
    const waiting = this.orphans.get(step.id);
    if (waiting) {
      for (const childId of waiting) {
        const child = this.views.get(childId);
        if (child) view.childrenEl.append(child.el);
      }
      this.orphans.delete(step.id);
    }
    const state = this.hooks.state();
    for (const el of Object.values(state.elements)) if (el.forId === step.id) this.upsertElement(el);
    for (const a of Object.values(state.actions)) if (a.forId === step.id) this.upsertAction(a);
  }

  /** A streamed token changed the step's output. */
  setOutput(step: StepDict): void {
    this.views.get(step.id)?.setOutput(step.output, true);
  }

  /** A step changed in place (feedback). */
  updateStep(step: StepDict): void {
    this.views.get(step.id)?.update(step);
  }

  /** Remove the views of steps and elements that were in `prev` and are gone from `state`. */
  removeGone(prev: ChatState, state: ChatState): void {
    for (const sid of Object.keys(prev.steps)) {
      if (!(sid in state.steps)) {
        this.views.get(sid)?.destroy();
        this.views.delete(sid);
      }
    }
    for (const [eid, el] of this.elementViews) if (!(eid in state.elements)) { el.remove(); this.elementViews.delete(eid); }
    for (const eid of Object.keys(prev.elements)) if (!(eid in state.elements)) this.hooks.elementRemoved?.(eid);
  }

  upsertElement(el: ElementDict): void {
    // A custom element already running gets its new props live (no reload of its code).
    if (el.type === "custom" && this.elementViews.has(el.id) && pushProps(el)) return;
    this.elementViews.get(el.id)?.remove();
    if (el.type === "tasklist" && this.hooks.showTaskList) {
      this.hooks.showTaskList(el);
      return;
    }
    let node: HTMLElement;
    if (el.display === "side" || el.display === "page") {
      // The element's name as a link in the message; it opens the side panel / page view.
      const link = h("button", { type: "button", class: "nbc-element-link", "data-element-id": el.id,
        "data-display": el.display, "aria-haspopup": "dialog" }, el.name);
      link.addEventListener("click", () => this.hooks.showElement(el.id, el.display, link));
      node = link;
    } else {
      node = renderElement(el, this.elementCtx);
    }
    this.elementViews.set(el.id, node);
    const target = el.forId ? this.views.get(el.forId) : undefined;
    if (target) {
      target.elementsEl.append(node);
      this.refreshLinks(el.forId);
    }
    else if (!el.forId) this.el.append(node);
    // else: the step arrives later; upsertStep attaches it then.
  }

  /** Tell a message which side/page elements it has, so their names in its text link. */
  private refreshLinks(stepId: string | null | undefined): void {
    const view = stepId ? this.views.get(stepId) : undefined;
    if (!view?.setElementLinks) return;
    const links = Object.values(this.hooks.state().elements)
      .filter((e) => e.forId === stepId && (e.display === "side" || e.display === "page") && e.type !== "tasklist")
      .map((e) => ({ id: e.id, name: e.name, open: (opener: HTMLElement) => this.hooks.showElement(e.id, e.display, opener) }));
    view.setElementLinks(links);
  }

  removeElement(id: string): void {
    this.elementViews.get(id)?.remove();
    this.elementViews.delete(id);
    this.hooks.elementRemoved?.(id);
  }

  upsertAction(action: ActionDict): void {
    this.actionViews.get(action.id)?.remove();
    const btn = h("button", { type: "button", class: "nbc-btn nbc-action", title: action.tooltip || null,
      "data-action": action.name }, action.label || action.name);
    btn.addEventListener("click", () => this.hooks.send(act.actionClick(action.id)));
    this.actionViews.set(action.id, btn);
    const target = action.forId ? this.views.get(action.forId) : undefined;
    if (target) target.actionsEl.append(btn);
    else if (!action.forId) this.globalActions.append(btn);
  }

  /** Retry on the reply `retryable` only; the last reply keeps its actions (copy,
   * feedback) in view, as in Chainlit. */
  markLastReply(state: ChatState, retryable: string | null): void {
    for (const btn of this.el.querySelectorAll<HTMLElement>(".nbc-retry-btn")) {
      btn.hidden = btn.closest<HTMLElement>(".nbc-msg")?.dataset.id !== retryable;
    }
    const reply = [...state.order].reverse().find((id) => state.steps[id]?.type === "assistant_message");
    for (const msg of this.el.querySelectorAll<HTMLElement>(".nbc-msg")) {
      msg.classList.toggle("nbc-last-reply", msg.dataset.id === reply);
    }
  }

  removeAction(id: string): void {
    this.actionViews.get(id)?.remove();
    this.actionViews.delete(id);
  }
}
