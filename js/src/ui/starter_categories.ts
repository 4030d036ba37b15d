/** Starters on an empty chat: one real button per starter (`@cl.set_starters`), or grouped
 * under labels (`@cl.set_starter_categories`): one button per category; choosing one shows
 * its starters, and a starter sends its message. */
import type { Welcome } from "../protocol";
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

/** The welcome's starters (or categories): what goes in the "Starters" list. */
export function renderStarters(welcome: Welcome | null,
  send: (message: string, command: string | undefined) => void): HTMLElement[] {
  const categories = (welcome?.starterCategories ?? []) as StarterCategorySpec[];
  if (categories.length) return renderStarterCategories(categories, send);
  return (welcome?.starters ?? []).map((s: StarterSpec) => {
    const label = String(s.label ?? s.message ?? "");
    // A real <button> inside the list item: role "button", named by the label.
    const btn = h("button", { type: "button", class: "nbc-starter" }, label);
    btn.addEventListener("click", () => send(String(s.message ?? label),
      typeof s.command === "string" ? s.command : undefined));
    return h("div", { role: "listitem", class: "nbc-starter-item" }, btn);
  });
}
