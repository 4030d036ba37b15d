/** The composer's mode pickers (`cl.context.emitter.set_modes`): one select per mode; the
 * chosen option of each goes with every message (`user_message.modes`). */
import { h } from "./dom";

export interface ModeOptionSpec {
  id: string;
  name: string;
  description?: string | null;
  default?: boolean;
}

export interface ModeSpec {
  id: string;
  name: string;
  options: ModeOptionSpec[];
}

export class ModePicker {
  readonly el = h("div", { class: "nbc-modes", hidden: true });
  private selects = new Map<string, HTMLSelectElement>();

  /** Show these pickers; a choice the user made is kept while the mode still offers it. */
  set(modes: readonly ModeSpec[]): void {
    const previous = this.chosen();
    this.selects = new Map();
    this.el.replaceChildren(...modes.map((mode) => {
      const fallback = mode.options.find((o) => o.default) ?? mode.options[0];
      const kept = mode.options.some((o) => o.id === previous[mode.id]) ? previous[mode.id] : fallback?.id;
      const select = h("select", { class: "nbc-mode", "aria-label": mode.name },
        ...mode.options.map((o) => h("option", { value: o.id, selected: o.id === kept,
          title: o.description ?? null }, o.name)));
      this.selects.set(mode.id, select);
      return select;
    }));
    this.el.hidden = modes.length === 0;
  }

  /** {mode id: option id} for every picker shown. */
  chosen(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [id, select] of this.selects) out[id] = select.value;
    return out;
  }
}
