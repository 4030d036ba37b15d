/** Ask prompts that are not answered by typing: action choice, file picker, element form. */
import { askResponse } from "../store/actions";
import type { AskEvent, ClientEvent } from "../protocol";
import { formatBytes, h } from "./dom";
import { type UploadSpec, type Uploader, acceptPatterns, checkFiles } from "./upload";
import { t } from "./i18n";

export interface AskContext {
  send(event: ClientEvent): void;
  uploader: Uploader;
}

function actionAsk(ask: AskEvent, ctx: AskContext): HTMLElement {
  const group = h("div", { class: "nbc-ask nbc-row", role: "group", "aria-label": t("chat.ask.chooseActionGroup") });
  for (const action of ask.spec.actions ?? []) {
    const btn = h("button", { type: "button", class: "nbc-btn", title: action.tooltip || null }, action.label || action.name);
    btn.addEventListener("click", () => {
      for (const b of group.querySelectorAll("button")) b.disabled = true;
      ctx.send(askResponse(ask.askId, { actionId: action.id }));
    });
    group.append(btn);
  }
  return group;
}

function fileAsk(ask: AskEvent, ctx: AskContext): HTMLElement {
  const spec: UploadSpec = { maxFiles: 1, ...ask.spec };
  const patterns = acceptPatterns(spec.accept);
  const input = h("input", { type: "file", accept: patterns.join(",") || null,
    multiple: (spec.maxFiles ?? 1) > 1, "aria-label": t("chat.ask.chooseFiles") });
  const info = h("div", { class: "nbc-muted" }, [
    patterns.length ? t("chat.ask.accepted", { types: patterns.join(", ") }) : "",
    spec.maxSizeMb ? `up to ${spec.maxSizeMb} MB` : "",
    (spec.maxFiles ?? 1) > 1 ? `at most ${spec.maxFiles} files` : "",
  ].filter(Boolean).join(" · "));
  const error = h("div", { class: "nbc-error-text", role: "alert" });
  const progress = h("progress", { max: 1, value: 0, hidden: true });
  const submit = h("button", { type: "button", class: "nbc-btn nbc-primary", disabled: true }, t("chat.ask.upload"));
  let files: File[] = [];
  input.addEventListener("change", () => {
    files = [...(input.files ?? [])];
    const problem = checkFiles(files, spec);
    error.textContent = problem ?? "";
    submit.disabled = Boolean(problem);
  });
  submit.addEventListener("click", async () => {
    const problem = checkFiles(files, spec);
    if (problem) { error.textContent = problem; return; }
    submit.disabled = true;
    input.disabled = true;
    progress.hidden = false;
    const total = files.reduce((n, f) => n + f.size, 0) || 1;
    let done = 0;
    try {
      const ids: string[] = [];
      for (const f of files) {
        ids.push(await ctx.uploader.upload(f, (fr) => { progress.value = (done + fr * f.size) / total; }));
        done += f.size;
      }
      ctx.send(askResponse(ask.askId, { fileIds: ids }));
      error.textContent = "";
    } catch (err) {
      error.textContent = String(err instanceof Error ? err.message : err);
      submit.disabled = false;
      input.disabled = false;
    }
  });
  const list = h("div", { class: "nbc-muted" });
  input.addEventListener("change", () => { list.textContent = files.map((f) => `${f.name} (${formatBytes(f.size)})`).join(", "); });
  return h("div", { class: "nbc-ask nbc-ask-file", role: "group", "aria-label": t("chat.ask.uploadFiles") },
    h("div", { class: "nbc-row" }, input, submit), info, list, progress, error);
}

function elementAsk(ask: AskEvent, ctx: AskContext): HTMLElement {
  const props = ask.spec.element?.props ?? {};
  const form = h("form", { class: "nbc-ask nbc-ask-element", "aria-label": ask.spec.element?.name ?? t("chat.ask.form") });
  const getters: [string, () => unknown][] = [];
  for (const [key, value] of Object.entries(props)) {
    let input: HTMLInputElement;
    if (typeof value === "boolean") {
      input = h("input", { type: "checkbox", checked: value });
      getters.push([key, () => input.checked]);
    } else if (typeof value === "number") {
      input = h("input", { type: "number", value: String(value), class: "nbc-input" });
      getters.push([key, () => Number(input.value)]);
    } else if (typeof value === "string") {
      input = h("input", { type: "text", value, class: "nbc-input" });
      getters.push([key, () => input.value]);
    } else {
      continue; // nested values are sent back unchanged
    }
    form.append(h("label", { class: "nbc-field" }, h("span", {}, key), input));
  }
  const submit = h("button", { type: "submit", class: "nbc-btn nbc-primary" }, t("common.actions.submit"));
  form.append(submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit.disabled = true;
    const values: Record<string, unknown> = { ...props };
    for (const [key, get] of getters) values[key] = get();
    ctx.send(askResponse(ask.askId, { values }));
  });
  return form;
}

/** The prompt UI for an ask, or null for text asks (answered through the composer). */
export function renderAsk(ask: AskEvent, ctx: AskContext): HTMLElement | null {
  switch (ask.kind) {
    case "action": return actionAsk(ask, ctx);
    case "file": return fileAsk(ask, ctx);
    case "element": return elementAsk(ask, ctx);
    default: return null;
  }
}

/** What the composer says while an ask waits for a non-text answer. */
export function askDisables(ask: AskEvent | null): string | null {
  if (!ask || ask.kind === "text") return null;
  return t(ask.kind === "action" ? "chat.ask.chooseAction" : ask.kind === "file" ? "chat.ask.uploadAbove" : "chat.ask.fillForm");
}
