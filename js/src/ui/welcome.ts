/**
 * The empty chat and the starters. With no message yet, the root gets `nbc-empty`: the
 * app's logo, name, description and readme (the hero) sit above a centred composer, the
 * starters as cards below it. Once a message shows, the composer docks at the bottom; the
 * starters stay (above the composer) until the user sends a first message, so an app
 * whose on_chat_start greets the user still offers them.
 */
import type { MarkdownEngine } from "../markdown/render";
import { isMessageStep } from "../protocol";
import { type ChatState, configValue } from "../store/state";
import { h } from "./dom";
import { bind, currentLocale } from "./i18n";
import { type StarterCategorySpec, renderStarterCategories } from "./starter_categories";

export class WelcomeView {
  readonly hero = h("div", { class: "nbc-hero" });
  readonly starters = bind(h("div", { class: "nbc-starters", role: "list" }), "label", "chat.starters");
  readonly dock = h("div", { class: "nbc-starters-dock" }, this.starters);
  private shownFor: unknown = null;

  constructor(private readonly send: (message: string, command: string | undefined) => void,
    private readonly engine: () => MarkdownEngine,
    /** The app's logo URL for the scheme shown (the page; the widget has none). */
    private readonly logo: () => string = () => "") {}

  /** The welcome changed: hero text and starters again. */
  render(state: ChatState): void {
    const welcome = state.welcome;
    const str = (key: string): string => {
      const v = configValue(state, key);
      return typeof v === "string" ? v : "";
    };
    const logo = this.logo();
    const readme = h("div", { class: "nbc-hero-text nbc-md" });
    // chainlit_<lang>.md for the UI's language (or its base language), else ui.readme.
    const readmes = (configValue(state, "readmes") ?? {}) as Record<string, unknown>;
    const tag = currentLocale();
    const localized = readmes[tag] ?? readmes[tag.split("-")[0] ?? ""];
    const text = (typeof localized === "string" ? localized : "") || str("ui.readme") || str("ui.description");
    if (text) readme.append(this.engine().render(text));
    this.hero.replaceChildren(
      ...(logo ? [h("img", { class: "nbc-hero-logo", src: logo, alt: "" })] : []),
      h("h1", { class: "nbc-hero-name" }, str("ui.name")), readme);
    if (this.shownFor === welcome) return;
    this.shownFor = welcome;
    const categories = (welcome?.starterCategories ?? []) as StarterCategorySpec[];
    if (categories.length) {
      this.starters.replaceChildren(...renderStarterCategories(categories, this.send));
      return;
    }
    this.starters.replaceChildren(...(welcome?.starters ?? []).map((s) => {
      const label = String(s.label ?? s.message ?? "");
      // A real <button> inside the list item: role "button", named by the label.
      const icon = typeof s.icon === "string" && s.icon ? h("img", { class: "nbc-starter-icon", src: s.icon, alt: "" }) : null;
      const btn = h("button", { type: "button", class: "nbc-starter" }, icon, h("span", {}, label));
      btn.addEventListener("click", () => this.send(String(s.message ?? label),
        typeof s.command === "string" ? s.command : undefined));
      return h("div", { role: "listitem", class: "nbc-starter-item" }, btn);
    }));
  }

  /** Empty state on `root`; the starters before or after `composer` (docked or centred). */
  update(state: ChatState, root: HTMLElement, composer: HTMLElement): void {
    let messages = false;
    let userSpoke = false;
    for (const id of state.order) {
      const s = state.steps[id];
      if (!s || !isMessageStep(s)) continue;
      messages = true;
      if (s.type === "user_message") { userSpoke = true; break; }
    }
    root.classList.toggle("nbc-empty", !messages);
    this.dock.hidden = userSpoke || this.starters.childElementCount === 0;
    const place = messages ? "before" : "after";
    if (place === "before" ? composer.previousElementSibling !== this.dock : composer.nextElementSibling !== this.dock) {
      composer[place](this.dock);
    }
  }
}
