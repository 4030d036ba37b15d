/** The composer: a card with the textbox "Message" over a row of icon buttons (attach,
 * the app's tools such as settings, then Send or Stop), command buttons above it. */
import { h } from "./dom";
import { type UploadSpec, acceptPatterns, checkFiles } from "./upload";
import { attachIcon, sendIcon, stopIcon } from "./icons";
import { bind, t } from "./i18n";

export interface ComposerHandlers {
  submit(text: string, files: File[], command: string | null): void;
  stop(): void;
}

export interface CommandSpec {
  id: string;
  description?: string;
  icon?: string;
  button?: boolean;
}

export class Composer {
  readonly el: HTMLFormElement;
  readonly textarea: HTMLTextAreaElement;
  private readonly sendBtn: HTMLButtonElement;
  private readonly stopBtn: HTMLButtonElement;
  private readonly attachBtn: HTMLButtonElement;
  private readonly fileInput: HTMLInputElement;
  private readonly chips = h("div", { class: "nbc-chips" });
  private readonly commandBar = h("div", { class: "nbc-commands" });
  private readonly errorEl = h("div", { class: "nbc-error-text", role: "alert" });
  /** Buttons the app adds beside attach (chat settings). */
  private readonly tools = h("span", { class: "nbc-composer-tools" });
  private files: File[] = [];
  private uploadSpec: UploadSpec | null = null;
  private commands: CommandSpec[] = [];
  private command: string | null = null;
  private running = false;
  private textAsk = false;
  private disabledReason: string | null = null;
  private get basePlaceholder(): string {
    return t("chat.input.placeholder");
  }
  /** The text of the last message sent, until the server may say it was not stored. */
  private lastSent: string | null = null;

  constructor(private readonly handlers: ComposerHandlers) {
    this.textarea = bind(h("textarea", { class: "nbc-textbox", rows: 1, placeholder: this.basePlaceholder }),
      "label", "chat.input.label");
    this.sendBtn = bind(h("button", { type: "submit", class: "nbc-send", title: "" }, sendIcon()), "label", "chat.input.actions.send");
    this.stopBtn = bind(h("button", { type: "button", class: "nbc-stop", title: "", hidden: true }, stopIcon()),
      "label", "chat.input.actions.stop");
    this.fileInput = h("input", { type: "file", multiple: true, class: "nbc-offscreen", tabindex: "-1",
      "aria-hidden": "true" });
    this.attachBtn = bind(h("button", { type: "button", class: "nbc-icon-btn nbc-attach", title: "", hidden: true }, attachIcon()),
      "label", "chat.input.actions.attachFiles");
    this.el = h("form", { class: "nbc-composer" }, this.commandBar, this.errorEl,
      h("div", { class: "nbc-composer-card" }, this.chips, this.textarea,
        h("div", { class: "nbc-composer-tools" }, this.attachBtn, this.fileInput, this.tools,
          h("span", { class: "nbc-spacer" }), this.sendBtn, this.stopBtn)));
    this.el.addEventListener("submit", (e) => { e.preventDefault(); this.send(); });
    this.textarea.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    this.textarea.addEventListener("input", () => this.autosize());
    this.stopBtn.addEventListener("click", () => this.handlers.stop());
    this.attachBtn.addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      this.addFiles([...(this.fileInput.files ?? [])]);
      this.fileInput.value = "";
    });
    this.refresh();
  }

  /** Spontaneous uploads: null hides the attachment button. */
  setUpload(spec: UploadSpec | null): void {
    this.uploadSpec = spec;
    this.attachBtn.hidden = !spec;
    this.fileInput.accept = spec ? acceptPatterns(spec.accept).join(",") : "";
    if (!spec) this.files = [];
    this.renderChips();
  }

  setCommands(commands: CommandSpec[]): void {
    this.commands = commands;
    if (this.command && !commands.some((c) => c.id === this.command)) this.command = null;
    this.renderCommands();
  }

  setRunning(running: boolean): void {
    this.running = running;
    this.refresh();
  }

  /** A text ask answers through the composer even while the task runs. */
  setTextAsk(active: boolean, prompt?: string): void {
    this.textAsk = active;
    this.textarea.placeholder = active && prompt ? prompt : this.basePlaceholder;
    this.refresh();
  }

  /** Non-null disables typing, e.g. "Choose an action above". */
  setDisabled(reason: string | null): void {
    this.disabledReason = reason;
    this.refresh();
  }

  /** The locale changed: the placeholder again (bound labels change by themselves). */
  relabel(): void {
    this.refresh();
  }

  /** A button of the app's in the composer's tool row (after attach). */
  addTool(button: HTMLElement): void {
    this.tools.append(button);
  }

  focus(): void {
    this.textarea.focus();
  }

  /** The last message was not stored (the chat's database is down): give its text back,
   *  unless the user has started typing another one. */
  restoreLastSent(): void {
    if (this.lastSent !== null && !this.textarea.value) {
      this.textarea.value = this.lastSent;
      this.autosize();
    }
    this.lastSent = null;
  }

  /** Put text in the textbox without sending it (`?prompt=` on the served page). */
  setText(text: string): void {
    this.textarea.value = text;
    this.autosize();
  }

  private get canSend(): boolean {
    return !this.disabledReason && (!this.running || this.textAsk);
  }

  private refresh(): void {
    const showStop = this.running && !this.textAsk;
    this.stopBtn.hidden = !showStop;
    this.sendBtn.hidden = showStop;
    this.textarea.disabled = Boolean(this.disabledReason);
    this.sendBtn.disabled = !this.canSend;
    this.attachBtn.disabled = Boolean(this.disabledReason);
    if (this.disabledReason) this.textarea.placeholder = this.disabledReason;
    else if (!this.textAsk) this.textarea.placeholder = this.basePlaceholder;
  }

  private autosize(): void {
    this.textarea.style.height = "auto";
    this.textarea.style.height = `${Math.min(this.textarea.scrollHeight, 200)}px`;
  }

  private addFiles(added: File[]): void {
    if (!this.uploadSpec) return;
    const all = [...this.files, ...added];
    const problem = checkFiles(all, this.uploadSpec);
    this.errorEl.textContent = problem ?? "";
    if (!problem) this.files = all;
    this.renderChips();
  }

  private renderChips(): void {
    this.chips.replaceChildren(...this.files.map((f, i) => {
      const remove = h("button", { type: "button", class: "nbc-icon-btn", "aria-label": t("chat.input.actions.removeFile", { name: f.name }) }, "×");
      remove.addEventListener("click", () => { this.files.splice(i, 1); this.renderChips(); });
      return h("span", { class: "nbc-chip" }, f.name, remove);
    }));
  }

  private renderCommands(): void {
    const buttons = this.commands.filter((c) => c.button);
    this.commandBar.replaceChildren(...buttons.map((c) => {
      const btn = h("button", { type: "button", class: "nbc-chip nbc-command", "aria-pressed": String(this.command === c.id),
        title: c.description ?? c.id }, c.id);
      btn.addEventListener("click", () => {
        this.command = this.command === c.id ? null : c.id;
        this.renderCommands();
      });
      return btn;
    }));
  }

  /** "/cmd rest" selects a known command when no command button is active. */
  private parseCommand(text: string): { text: string; command: string | null } {
    if (this.command) return { text, command: this.command };
    const m = /^\/(\S+)\s*([\s\S]*)$/.exec(text);
    if (m && m[1] && this.commands.some((c) => c.id === m[1])) return { text: m[2] ?? "", command: m[1] };
    return { text, command: null };
  }

  private send(): void {
    if (!this.canSend) return;
    const raw = this.textarea.value;
    if (!raw.trim() && !this.files.length) return;
    const { text, command } = this.parseCommand(raw);
    const files = this.files;
    this.files = [];
    this.lastSent = raw;
    this.textarea.value = "";
    this.errorEl.textContent = "";
    this.autosize();
    this.renderChips();
    this.handlers.submit(text, files, command);
  }
}
