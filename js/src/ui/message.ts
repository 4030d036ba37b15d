/** One chat message: an article with avatar, author, hover timestamp, body, footer. */
import { editMessage, feedback, feedbackDelete, fork } from "../store/actions";
import { IncrementalMarkdown } from "../markdown/render";
import type { FeedbackDict, StepDict } from "../protocol";
import { type NodeView, type ViewContext, authorOf } from "./context";
import { showAvatar } from "./avatar";
import { copyText, flashCopied, formatTime, h, parseTime } from "./dom";
import { inlineEditor, pencilIcon, retryIcon } from "./edit";
import { type ElementLink, linkifyNames } from "./elementlinks";
import { asMarkdown, asText } from "./jsontext";
import { copyIcon, forkIcon, thumbDownIcon, thumbUpIcon } from "./icons";
import { bind, t } from "./i18n";

export class MessageView implements NodeView {
  readonly el: HTMLElement;
  readonly childrenEl = h("div", { class: "nbc-msg-steps" });
  readonly elementsEl = h("div", { class: "nbc-msg-elements" });
  readonly actionsEl = h("div", { class: "nbc-actions" });
  private readonly avatar = h("div", { class: "nbc-avatar", "aria-hidden": "true" });
  private readonly author = h("span", { class: "nbc-author" });
  private readonly time = h("time", { class: "nbc-time" });
  private readonly foot = h("div", { class: "nbc-msg-foot" });
  private readonly md: IncrementalMarkdown;
  private step: StepDict;
  private feedbackEl: HTMLElement | null = null;

  constructor(step: StepDict, private readonly ctx: ViewContext) {
    this.step = step;
    this.md = new IncrementalMarkdown(ctx.engineFor(step), ctx.scheduler, "nbc-md nbc-msg-body");
    this.md.afterRender = (root) => this.linkify(root);
    const copy = bind(h("button", { type: "button", class: "nbc-icon-btn", title: "" }, copyIcon()), "label", "chat.messages.copy");
    copy.addEventListener("click", () => { void copyText(asText(this.step.output as unknown).text).then((ok) => flashCopied(copy, ok)); });
    this.foot.append(copy);
    if (step.type === "user_message") {
      this.editBtn = bind(h("button", { type: "button", class: "nbc-icon-btn nbc-edit-btn", title: "" }, pencilIcon()),
        "label", "chat.messages.edit");
      this.editBtn.addEventListener("click", () => this.startEdit());
      this.foot.append(this.editBtn);
    } else if (step.type === "assistant_message") {
      // Shown by the app on the last reply only (ChatApp.markLastReply).
      this.retryBtn = bind(h("button", { type: "button", class: "nbc-icon-btn nbc-retry-btn", title: "", hidden: true },
        retryIcon()), "label", "chat.messages.retry");
      this.retryBtn.addEventListener("click", () => this.ctx.retry?.(this.step.id));
      this.foot.append(this.retryBtn);
    }
    // A new chat holding the conversation up to here (welcome.forks: the host stores chats).
    this.forkBtn = h("button", { type: "button", class: "nbc-icon-btn nbc-fork-btn",
      "aria-label": "Fork chat from here", title: "Fork a new chat from here", hidden: true }, forkIcon());
    this.forkBtn.addEventListener("click", () => this.ctx.send(fork(this.step.id)));
    this.foot.append(this.forkBtn);
    this.el = h("article", { class: "nbc-msg", role: "article" },
      this.avatar,
      h("div", { class: "nbc-msg-main" },
        h("div", { class: "nbc-msg-head" }, this.author),
        this.childrenEl, this.md.el, this.elementsEl, this.actionsEl, this.foot));
    this.foot.append(this.time);
    this.update(step);
  }

  update(step: StepDict): void {
    const prevOutput = this.step.output;
    this.step = step;
    const author = authorOf(step);
    this.el.setAttribute("aria-label", author);
    this.el.dataset.type = step.type;
    this.el.dataset.id = step.id;
    this.el.classList.toggle("nbc-error", step.isError);
    this.el.classList.toggle("nbc-streaming", step.streaming);
    // Like Chainlit: the avatar image for authors other than the user.
    showAvatar(this.avatar, step.type === "user_message" ? null : this.ctx.avatarUrl?.(author) ?? null);
    // The author line only names someone else than the app itself (author_rename, agents).
    this.author.textContent = step.type === "user_message" || author === this.ctx.appName?.() ? "" : author;
    const when = parseTime(step.createdAt);
    this.time.textContent = formatTime(step.createdAt);
    if (when) {
      this.time.dateTime = when.toISOString();
      this.time.title = when.toLocaleString();
    }
    if (step.output !== prevOutput || step.streaming !== this.streamingShown || !this.md.text) {
      this.setOutput(step.output, step.streaming);
    }
    this.renderFeedback(step.feedback ?? null);
    if (this.editBtn && !this.editor) this.editBtn.hidden = !(this.ctx.editEnabled?.() ?? false);
    this.forkBtn.hidden = step.streaming || !(this.ctx.forkEnabled?.() ?? false);
  }

  private streamingShown = false;
  private readonly forkBtn: HTMLButtonElement;
  private editBtn: HTMLButtonElement | null = null;
  readonly retryBtn: HTMLButtonElement | null = null;
  private editor: HTMLElement | null = null;

  /** Replace the text by the inline editor; Confirm sends edit_message. */
  private startEdit(): void {
    if (this.editor) return;
    const original = asText(this.step.output as unknown).text;
    this.editor = inlineEditor(original, (text) => {
      this.editor?.remove();
      this.editor = null;
      this.md.el.hidden = false;
      if (this.editBtn) this.editBtn.hidden = false;
      if (text !== null && text !== original) this.ctx.send(editMessage(this.step.id, text));
      this.editBtn?.focus();
    });
    this.md.el.hidden = true;
    if (this.editBtn) this.editBtn.hidden = true;
    this.md.el.after(this.editor);
  }
  private links: readonly ElementLink[] = [];

  setElementLinks(links: readonly ElementLink[]): void {
    this.links = links;
    this.linkify(this.md.el);
  }

  /** Names in the text become links; the fallback link under the message hides when its
   * name occurs (only messages with side/page elements pay for the walk). */
  private linkify(root: HTMLElement): void {
    if (!this.links.length) return;
    const found = linkifyNames(root, this.links);
    for (const link of this.links) {
      const fallback = [...this.elementsEl.querySelectorAll<HTMLElement>(".nbc-element-link")]
        .find((b) => b.dataset.elementId === link.id);
      if (fallback) fallback.hidden = found.has(link.id);
    }
  }

  setOutput(text: string, streaming: boolean): void {
    this.step = { ...this.step, output: text };
    this.streamingShown = streaming;
    this.md.set(asMarkdown(text as unknown), streaming);
  }

  private renderFeedback(current: FeedbackDict | null): void {
    const show = this.step.type === "assistant_message" && !this.step.streaming && this.ctx.feedbackEnabled();
    if (!show) {
      this.feedbackEl?.remove();
      this.feedbackEl = null;
      return;
    }
    const value = current ? current.value : null;
    if (this.feedbackEl && this.feedbackEl.dataset.value === String(value)) return;
    const form = h("div", { class: "nbc-feedback-form", hidden: true });
    const thumb = (v: 0 | 1, label: string, glyph: SVGSVGElement): HTMLButtonElement => {
      const btn = bind(h("button", { type: "button", class: "nbc-icon-btn nbc-thumb", title: "",
        "aria-pressed": String(value === v) }, glyph), "label", label);
      btn.addEventListener("click", () => {
        if (value === v) {
          this.ctx.send(feedbackDelete(this.step.id));
          this.renderFeedback(null);
          return;
        }
        this.openComment(form, v);
      });
      return btn;
    };
    const box = h("div", { class: "nbc-feedback", "data-value": String(value) },
      thumb(1, "chat.messages.helpful", thumbUpIcon()), thumb(0, "chat.messages.notHelpful", thumbDownIcon()), form);
    if (this.feedbackEl) this.feedbackEl.replaceWith(box);
    else this.time.before(box);
    this.feedbackEl = box;
  }

  private openComment(form: HTMLElement, value: 0 | 1): void {
    const comment = h("textarea", { class: "nbc-input", rows: 2, "aria-label": t("chat.messages.feedbackComment"),
      placeholder: t("chat.messages.feedbackPlaceholder") });
    const submit = h("button", { type: "button", class: "nbc-btn nbc-primary" }, t("chat.messages.submitFeedback"));
    const cancel = h("button", { type: "button", class: "nbc-btn" }, t("common.actions.cancel"));
    submit.addEventListener("click", () => {
      const text = comment.value.trim();
      this.ctx.send(feedback(this.step.id, value, text || null));
      this.renderFeedback({ forId: this.step.id, value, comment: text || null });
    });
    cancel.addEventListener("click", () => { form.hidden = true; form.replaceChildren(); });
    form.replaceChildren(comment, h("div", { class: "nbc-row" }, submit, cancel));
    form.hidden = false;
    comment.focus();
  }

  destroy(): void {
    this.el.remove();
  }
}
