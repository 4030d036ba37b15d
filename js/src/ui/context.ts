import type { FrameScheduler } from "../frame";
import type { MarkdownEngine } from "../markdown/render";
import type { ClientEvent, ElementDict, StepDict } from "../protocol";

/** What message and step views need from the app; keeps views free of global state. */
export interface ViewContext {
  scheduler: FrameScheduler;
  /** Markdown engine for a step: user content is always sanitized. */
  engineFor(step: StepDict): MarkdownEngine;
  send(event: ClientEvent): void;
  feedbackEnabled(): boolean;
  resolveFile(objectKey: string, element: ElementDict): Promise<string>;
  openImage(src: string, alt: string): void;
  /** The app's name (`ui.name`): messages by it need no author line. */
  appName?(): string;
  /** The author's avatar image (see avatar.ts). */
  avatarUrl?(author: string): string | null;
  /** `features.edit_message` is on and the view is not read-only. */
  editEnabled?(): boolean;
  /** Re-run the reply `stepId` (see edit.ts). */
  retry?(stepId: string): void;
  /** The host stores chats (`welcome.forks`) and the view is not read-only. */
  forkEnabled?(): boolean;
}

/** Both message and step views expose the same slots to the app. */
export interface NodeView {
  readonly el: HTMLElement;
  /** Where nested steps go. */
  readonly childrenEl: HTMLElement;
  readonly elementsEl: HTMLElement;
  readonly actionsEl: HTMLElement;
  update(step: StepDict): void;
  /** Side/page elements for this message: their names in the text become links. */
  setElementLinks?(links: readonly import("./elementlinks").ElementLink[]): void;
  setOutput(text: string, streaming: boolean): void;
  destroy(): void;
}

export function authorOf(step: StepDict): string {
  return step.name || (step.type === "user_message" ? "User" : "Assistant");
}

export function isRunning(step: StepDict): boolean {
  return !step.end && !step.isError && !step.cancelled && (step.streaming || Boolean(step.start));
}
