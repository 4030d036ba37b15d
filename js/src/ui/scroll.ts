/**
 * Keeps the transcript at its end while the user is there: after new events, and after an
 * image (or any late-loading media) grows the content. Scrolled up, a round "jump to the
 * latest message" button shows over the bottom of the transcript.
 */
import type { FrameScheduler } from "../frame";
import { h } from "./dom";
import { arrowDownIcon } from "./icons";
import { t } from "./i18n";

/** Closer than this to the end counts as "at the end". */
const STICK_PX = 48;
/** A scroll this soon after the user's input is the user's (a wheel or a scrollbar drag). */
const USER_SCROLL_MS = 1000;

export class ScrollFollower {
  readonly jump: HTMLButtonElement;
  private stick = true;
  /** When the user last wheeled, touched, pressed a key or grabbed the scrollbar here. */
  private userAt = -Infinity;

  constructor(private readonly scroller: HTMLElement, private readonly scheduler: FrameScheduler) {
    this.jump = h("button", { type: "button", class: "nbc-jump", hidden: true, "aria-label": t("chat.jumpToLatest"),
      title: t("chat.jumpToLatest") }, arrowDownIcon());
    this.jump.addEventListener("click", () => {
      this.stick = true;
      this.toEnd();
    });
    // Only the user unsticks: layout changes (a reply growing, the starters going, scroll
    // anchoring) also move scrollTop, and must not leave the transcript short of its end.
    const intent = (): void => { this.userAt = performance.now(); };
    for (const type of ["wheel", "touchmove", "keydown", "pointerdown"]) {
      scroller.addEventListener(type, intent, { passive: true });
    }
    scroller.addEventListener("scroll", () => {
      const atEnd = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < STICK_PX;
      if (atEnd) this.stick = true;
      else if (performance.now() - this.userAt < USER_SCROLL_MS) this.stick = false;
      this.jump.hidden = this.stick;
    }, { passive: true });
    // `load` does not bubble; caught on the way down, it tells of every image in the list.
    scroller.addEventListener("load", () => { if (this.stick) this.toEnd(); }, true);
  }

  /** Follow the end again (the user sent a message, the chat was rebuilt). */
  follow(): void {
    this.stick = true;
    this.jump.hidden = true;
  }

  /** After this frame's renders, scroll to the end if the user is there. */
  afterRender(): void {
    if (this.stick) this.scheduler.afterFrame(() => this.toEnd());
  }

  private toEnd(): void {
    if (!this.stick) return;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }
}
