/** The chat settings dialog: one field per input widget schema, sent on "Confirm". */
import { h } from "./dom";
import { bind } from "./i18n";

type Input = Record<string, unknown>;

function str(v: unknown, fallback = ""): string {
  return typeof v === "string" ? v : v === undefined || v === null ? fallback : String(v);
}

function options(input: Input): { value: string; label: string }[] {
  const items = input.items;
  if (items && typeof items === "object" && !Array.isArray(items)) {
    return Object.entries(items as Record<string, unknown>).map(([label, value]) => ({ label, value: str(value) }));
  }
  const values = Array.isArray(input.values) ? input.values : Array.isArray(items) ? items : [];
  return values.map((v) => ({ value: str(v), label: str(v) }));
}

/** One field; returns its element and a getter for the current value. */
export function settingField(input: Input): { el: HTMLElement; get: () => unknown } {
  const id = `nbc-setting-${str(input.id)}-${Math.random().toString(36).slice(2, 7)}`;
  const label = str(input.label, str(input.id));
  const initial = input.initial;
  const disabled = Boolean(input.disabled);
  let control: HTMLElement;
  let get: () => unknown;
  switch (input.type) {
    case "select": {
      const sel = h("select", { id, class: "nbc-input", disabled });
      for (const o of options(input)) sel.append(h("option", { value: o.value, selected: o.value === str(initial) }, o.label));
      control = sel;
      get = () => sel.value;
      break;
    }
    case "slider": {
      const out = h("output", { for: id }, str(initial));
      const range = h("input", { id, type: "range", min: str(input.min, "0"), max: str(input.max, "10"),
        step: str(input.step, "1"), value: str(initial, "0"), disabled });
      range.addEventListener("input", () => { out.textContent = range.value; });
      control = h("span", { class: "nbc-row" }, range, out);
      get = () => Number(range.value);
      break;
    }
    case "switch":
    case "checkbox": {
      const box = h("input", { id, type: "checkbox", role: input.type === "switch" ? "switch" : null,
        checked: Boolean(initial), disabled });
      control = box;
      get = () => box.checked;
      break;
    }
    case "radio": {
      const radios = options(input).map((o) => h("input", { type: "radio", name: id, value: o.value,
        checked: o.value === str(initial), disabled, "aria-label": o.label }));
      control = h("div", { id, role: "radiogroup", "aria-label": label, class: "nbc-row" },
        ...radios.map((r) => h("label", {}, r, r.getAttribute("aria-label") ?? "")));
      get = () => radios.find((r) => r.checked)?.value ?? null;
      break;
    }
    case "datepicker": {
      // ISO dates (YYYY-MM-DD) both ways; a range is two date inputs.
      const range = input.mode === "range";
      const first = Array.isArray(initial) ? initial[0] : initial;
      const dates = (range ? [first, Array.isArray(initial) ? initial[1] : null] : [first]).map((v, i) =>
        h("input", { id: i === 0 ? id : null, type: "date", class: "nbc-input", value: str(v),
          min: str(input.min_date) || null, max: str(input.max_date) || null, disabled,
          "aria-label": range ? `${label} ${i === 0 ? "from" : "to"}` : null }));
      control = h("span", { class: "nbc-row" }, ...dates);
      get = () => {
        const values = dates.map((d) => d.value || null);
        if (!range) return values[0];
        return values[0] && values[1] ? values : null;
      };
      break;
    }
    case "numberinput": {
      const num = h("input", { id, type: "number", class: "nbc-input", value: str(initial), placeholder: str(input.placeholder),
        min: input.min === undefined ? null : str(input.min), max: input.max === undefined ? null : str(input.max),
        step: input.step === undefined ? "any" : str(input.step), disabled });
      control = num;
      get = () => (num.value === "" ? null : Number(num.value));
      break;
    }
    case "tags": {
      const text = h("input", { id, type: "text", class: "nbc-input", placeholder: str(input.placeholder, "comma, separated"),
        value: Array.isArray(initial) ? initial.map((t) => str(t)).join(", ") : "", disabled });
      control = text;
      get = () => text.value.split(",").map((t) => t.trim()).filter(Boolean);
      break;
    }
    case "multiselect": {
      const chosen = new Set(Array.isArray(initial) ? initial.map((v) => str(v)) : []);
      const sel = h("select", { id, class: "nbc-input", multiple: true, disabled });
      for (const o of options(input)) sel.append(h("option", { value: o.value, selected: chosen.has(o.value) }, o.label));
      control = sel;
      get = () => [...sel.selectedOptions].map((o) => o.value);
      break;
    }
    case "textinput":
    default: {
      const multiline = Boolean(input.multiline);
      const text = multiline
        ? h("textarea", { id, class: "nbc-input", rows: 3, placeholder: str(input.placeholder), disabled })
        : h("input", { id, type: "text", class: "nbc-input", placeholder: str(input.placeholder), disabled });
      text.value = str(initial);
      control = text;
      get = () => text.value;
    }
  }
  const description = input.description ? h("div", { class: "nbc-muted" }, str(input.description)) : null;
  const el = h("div", { class: "nbc-field", "data-setting": str(input.id), title: str(input.tooltip) || null },
    h("label", { for: id }, label), control, description);
  return { el, get };
}

/** A `tab` input's fields in a fieldset of their own; their values stay top-level settings. */
function tabFields(tab: Input, fields: { id: string; get: () => unknown }[]): HTMLElement {
  const inner = Array.isArray(tab.inputs) ? (tab.inputs as Input[]) : [];
  const els = inner.map((input) => {
    const field = settingField(input);
    fields.push({ id: str(input.id), get: field.get });
    return field.el;
  });
  return h("fieldset", { class: "nbc-settings-tab", "data-tab": str(tab.id) },
    h("legend", {}, str(tab.label, str(tab.id))), ...els);
}

/** `inputs` (tabs' too) with the saved `values` as their initial values. */
function withInitial(inputs: readonly Input[], values: Record<string, unknown>): Input[] {
  return inputs.map((i) => {
    if (i.type === "tab" && Array.isArray(i.inputs)) return { ...i, inputs: withInitial(i.inputs as Input[], values) };
    return str(i.id) in values ? { ...i, initial: values[str(i.id)] } : i;
  });
}

/**
 * A modal dialog (a bottom sheet on narrow screens) over the chat: Reset puts back the
 * values the app sent, Cancel (or Escape, or a click on the backdrop) drops the edits,
 * Confirm sends them.
 */
export class SettingsPanel {
  readonly el: HTMLElement;
  private readonly form: HTMLFormElement;
  private readonly fieldsEl = h("div", { class: "nbc-settings-fields" });
  private fields: { id: string; get: () => unknown }[] = [];
  /** What the form shows when opened: the app's values, then the last confirmed ones. */
  private inputs: readonly Input[] = [];
  /** The inputs as the app sent them (Reset). */
  private defaults: readonly Input[] = [];
  private opener: HTMLElement | null = null;

  /** `onEdit` gets the form's values on every change, before Confirm (on_settings_edit). */
  constructor(private readonly onSave: (values: Record<string, unknown>) => void,
    private readonly onEdit?: (values: Record<string, unknown>) => void) {
    const titleId = `nbc-settings-title-${Math.random().toString(36).slice(2, 7)}`;
    const reset = bind(h("button", { type: "button", class: "nbc-btn nbc-reset" }), "text", "chat.settings.reset");
    const cancel = bind(h("button", { type: "button", class: "nbc-btn" }), "text", "chat.settings.cancel");
    const confirm = bind(h("button", { type: "submit", class: "nbc-btn nbc-primary" }), "text", "chat.settings.confirm");
    reset.addEventListener("click", () => {
      this.render(this.defaults);
      this.onEdit?.(this.values());
    });
    cancel.addEventListener("click", () => this.close());
    this.form = h("form", { class: "nbc-settings-form" },
      bind(h("h2", { class: "nbc-settings-title", id: titleId }), "text", "chat.settings.title"),
      this.fieldsEl, h("div", { class: "nbc-settings-buttons" }, reset, cancel, confirm));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      const values = this.values();
      this.onSave(values);
      // What Cancel (and the next opening) restores: the values just confirmed.
      this.inputs = withInitial(this.inputs, values);
      this.close();
    });
    this.form.addEventListener("change", () => this.onEdit?.(this.values()));
    const dialog = h("div", { class: "nbc-settings-dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId },
      this.form);
    this.el = h("div", { class: "nbc-settings", hidden: true }, dialog);
    this.el.addEventListener("click", (e) => { if (e.target === this.el) this.close(); });
  }

  values(): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const f of this.fields) values[f.id] = f.get();
    return values;
  }

  /** The app's settings (the `settings` event). */
  setInputs(inputs: readonly Input[]): void {
    this.defaults = inputs;
    this.inputs = inputs;
    this.render(inputs);
  }

  private render(inputs: readonly Input[]): void {
    this.fields = [];
    const els: HTMLElement[] = [];
    for (const input of inputs) {
      if (input.type === "tab") {
        els.push(tabFields(input, this.fields));
        continue;
      }
      const field = settingField(input);
      this.fields.push({ id: str(input.id), get: field.get });
      els.push(field.el);
    }
    this.fieldsEl.replaceChildren(...els);
  }

  get hasInputs(): boolean {
    return this.fields.length > 0;
  }

  open(): void {
    const active = this.el.ownerDocument.activeElement;
    this.opener = active instanceof HTMLElement ? active : null;
    this.render(this.inputs);
    this.el.hidden = false;
    this.form.querySelector<HTMLElement>("input, select, textarea")?.focus();
  }

  /** Close without saving: the next opening shows the confirmed values. */
  close(): void {
    if (this.el.hidden) return;
    this.el.hidden = true;
    this.render(this.inputs);
    if (this.opener?.isConnected) this.opener.focus();
    this.opener = null;
  }

  toggle(): void {
    if (this.el.hidden) this.open();
    else this.close();
  }
}
