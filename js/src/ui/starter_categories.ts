/** Starters grouped under labels (`@cl.set_starter_categories`): one button per category;
 * choosing one shows its starters, and a starter sends its message. */
import { h } from "./dom";
import { t } from "./i18n";

export interface StarterSpec {
  label?: unknown;
  message?: unknown;
  command?: unknown;
}

export interface StarterCategorySpec {
  label?: unknown;
  starters?: unknown;
}

/** The category row and, once one is chosen, its starters. `send(message, command)`. */
export function renderStarterCategories(categories: readonly StarterCategorySpec[],
  send: (message: string, command: string | undefined) => void): HTMLElement[] {
  const list = h("div", { class: "nbc-starters", role: "list", "aria-label": t("chat.starters") });
  const tabs = categories.map((category, index) => {
    const tab = h("button", { type: "button", class: "nbc-starter nbc-starter-category",
      "aria-pressed": "false" }, String(category.label ?? ""));
    tab.addEventListener("click", () => {
      for (const other of tabs) other.setAttribute("aria-pressed", String(other === tab));
      const starters = Array.isArray(categories[index]?.starters)
        ? (categories[index]?.starters as StarterSpec[]) : [];
      list.replaceChildren(...starters.map((s) => {
        const label = String(s.label ?? s.message ?? "");
        const btn = h("button", { type: "button", class: "nbc-starter", role: "listitem" }, label);
        btn.addEventListener("click", () => send(String(s.message ?? label),
          typeof s.command === "string" ? s.command : undefined));
        return btn;
      }));
    });
    return tab;
  });
  return [h("div", { class: "nbc-starters nbc-starter-categories", role: "group",
    "aria-label": t("chat.starterCategories") }, ...tabs), list];
}
