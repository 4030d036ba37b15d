/** A (nested) step: a disclosure button with icon, name, spinner/duration; a lazy body. */
import { IncrementalMarkdown } from "../markdown/render";
import { escapeHtml, highlight } from "../markdown/highlight";
import type { StepDict } from "../protocol";
import { type NodeView, type ViewContext, isRunning } from "./context";
import { formatDuration, h } from "./dom";
import { asMarkdown, asText, guarded } from "./jsontext";
import { stepIcon } from "./lucide";
import { t } from "./i18n";

// Not a triangle for `run`: the disclosure toggle beside it already is one.
const ICONS: Record<string, string> = {
  run: "◆", tool: "⚙", llm: "✦", embedding: "≋", retrieval: "⌕", rerank: "⇅", undefined: "•",
};

let nextId = 0;

export class StepView implements NodeView {
  readonly el: HTMLElement;
  readonly childrenEl = h("div", { class: "nbc-step-children" });
  readonly elementsEl = h("div", { class: "nbc-msg-elements" });
  readonly actionsEl = h("div", { class: "nbc-actions" });
  private readonly head: HTMLButtonElement;
  private readonly icon = h("span", { class: "nbc-step-icon", "aria-hidden": "true" });
  private readonly name = h("span", { class: "nbc-step-name" });
  private readonly status = h("span", { class: "nbc-step-status" });
  private readonly body: HTMLElement;
  private readonly io = h("div", { class: "nbc-step-io" });
  private md: IncrementalMarkdown | null = null;
  private inputEl: HTMLElement | null = null;
  private step: StepDict;
  private expanded: boolean;
  private userToggled = false;

  constructor(step: StepDict, private readonly ctx: ViewContext) {
    this.step = step;
    nextId += 1;
    const bodyId = `nbc-step-body-${nextId}`;
    this.expanded = step.defaultOpen;
    this.head = h("button", { type: "button", class: "nbc-step-head", "aria-expanded": "false",
      "aria-controls": bodyId }, h("span", { class: "nbc-chevron", "aria-hidden": "true" }),
    this.icon, this.name, this.status);
    this.head.addEventListener("click", () => {
      this.userToggled = true;
      this.setExpanded(!this.expanded);
    });
    this.body = h("div", { class: "nbc-step-body", id: bodyId, hidden: true },
      this.io, this.childrenEl, this.elementsEl, this.actionsEl);
    this.el = h("div", { class: "nbc-step" }, this.head, this.body);
    this.update(step);
    this.setExpanded(this.expanded);
  }

  update(step: StepDict): void {
    const prev = this.step;
    this.step = step;
    const running = isRunning(step);
    const state = step.isError ? "error" : step.cancelled ? "cancelled" : running ? "running" : "done";
    this.el.dataset.type = step.type;
    this.el.dataset.id = step.id;
    this.el.dataset.state = state;
    if (!this.icon.firstChild || step.icon !== prev.icon || step.type !== prev.type) {
      // A Lucide name the bundle draws (lucide.ts), else the type's default marker.
      const drawn = stepIcon(step.icon);
      this.icon.dataset.icon = drawn ? drawn.dataset.icon : "";
      if (drawn) this.icon.replaceChildren(drawn);
      else this.icon.textContent = ICONS[step.type] ?? "•";
    }
    this.name.textContent = step.name || step.type;
    this.status.replaceChildren(
      running ? h("span", { class: "nbc-spinner", role: "status", "aria-label": t("common.status.running") }) :
        step.isError ? h("span", { class: "nbc-error-text" }, t("common.status.error")) :
          step.cancelled ? h("span", { class: "nbc-muted" }, t("common.status.stopped")) :
            h("span", { class: "nbc-muted" }, formatDuration(step.start, step.end)),
    );
    if (step.isError && !this.userToggled && !this.expanded) this.setExpanded(true);
    // Step(auto_collapse=True): fold once it ends, unless the user opened or closed it.
    else if (step.autoCollapse && !running && isRunning(prev) && !this.userToggled && this.expanded) {
      this.setExpanded(false);
    }
    if (this.expanded) {
      if (step.input !== prev.input || step.showInput !== prev.showInput || !this.inputEl) this.renderSafely(() => this.renderInput());
      if (step.output !== prev.output || !this.md || step.streaming !== prev.streaming) this.renderSafely(() => this.renderOutput());
    }
  }

  setOutput(text: string, streaming: boolean): void {
    this.step = { ...this.step, output: text, streaming };
    if (this.expanded) this.renderOutput(); // collapsed steps render nothing per token
  }

  private setExpanded(open: boolean): void {
    this.expanded = open;
    this.head.setAttribute("aria-expanded", String(open));
    this.body.hidden = !open;
    this.el.classList.toggle("nbc-open", open);
    if (open) {
      this.renderSafely(() => this.renderInput());
      this.renderSafely(() => this.renderOutput());
    }
  }

  /** One renderer's failure must not blank the other part of the step (nor the chat). */
  private renderSafely(render: () => void): void {
    try {
      render();
    } catch (err) {
      console.error("nbchat: rendering a step failed", err);
    }
  }

  private renderInput(): void {
    guarded("step input", () => this.buildInput(), (err) => this.showBroken(t("chat.messages.input"), err));
  }

  private buildInput(): void {
    const show = this.step.showInput;
    this.inputEl?.remove();
    this.inputEl = null;
    const { text: raw, json } = asText(this.step.input as unknown);
    if (!show || !raw) return;
    // Compact JSON text (the server writes it so: cheap to make) is laid out here.
    const text = show === "json" && /^[[{]/.test(raw) ? reindent(raw) : raw;
    // A dict input is JSON whatever language show_input names.
    const lang = json ? "json" : typeof show === "string" && show !== "true" ? show : "";
    const code = h("code", { class: "hljs" });
    code.innerHTML = lang ? highlight(text, lang) : escapeHtml(text);
    this.inputEl = h("div", { class: "nbc-step-input" }, h("div", { class: "nbc-label" }, t("chat.messages.input")), h("pre", {}, code));
    this.io.prepend(this.inputEl);
  }

  private renderOutput(): void {
    guarded("step output", () => this.buildOutput(), (err) => this.showBroken(t("chat.messages.output"), err));
  }

  private buildOutput(): void {
    if (!this.md) {
      this.md = new IncrementalMarkdown(this.ctx.engineFor(this.step), this.ctx.scheduler, "nbc-md nbc-step-output");
      this.io.append(this.md.el);
    }
    const out = this.step.output as unknown;
    const text = this.step.language && typeof out === "string" && out
      ? `\`\`\`${this.step.language}\n${out}\n\`\`\`` : asMarkdown(out);
    this.md.set(text, this.step.streaming);
  }

  /** A part that failed to render says so instead of staying blank. */
  private showBroken(part: string, err: unknown): void {
    this.io.append(h("div", { class: "nbc-error-text" }, t("chat.messages.notShown", { part, error: String(err) })));
  }

  destroy(): void {
    this.el.remove();
  }
}

/** JSON text laid out with two-space indents; anything that does not parse, as it is. */
function reindent(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
