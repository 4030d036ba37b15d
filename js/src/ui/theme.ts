/**
 * Light or dark: one class (`nbc-dark`) on the chat root and the page, so the stylesheet
 * holds one dark token set. The scheme comes from, in order: the user's choice (the page's
 * theme toggle, kept in localStorage), JupyterLab's theme (`body[data-jp-theme-light]`),
 * the OS (`prefers-color-scheme`). Changes apply at once, without a reload.
 */
export type Scheme = "light" | "dark";
export type SchemeChoice = Scheme | "system";

const STORAGE_KEY = "nbchat-theme";

export function storedChoice(): SchemeChoice {
  try {
    const v = globalThis.localStorage?.getItem(STORAGE_KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system"; // storage blocked (privacy mode): follow the system
  }
}

export function storeChoice(choice: SchemeChoice): void {
  try {
    if (choice === "system") globalThis.localStorage?.removeItem(STORAGE_KEY);
    else globalThis.localStorage?.setItem(STORAGE_KEY, choice);
  } catch {
    // not kept across reloads: still applied now
  }
}

/** JupyterLab's scheme when the document is a Lab page, else null. */
export function labScheme(doc: Document): Scheme | null {
  const light = doc.body?.dataset.jpThemeLight;
  return light === "true" ? "light" : light === "false" ? "dark" : null;
}

function systemDark(): boolean {
  return typeof globalThis.matchMedia === "function" && globalThis.matchMedia("(prefers-color-scheme: dark)").matches;
}

/** The scheme to show for `choice` in `doc`. */
export function resolveScheme(choice: SchemeChoice, doc: Document): Scheme {
  if (choice !== "system") return choice;
  return labScheme(doc) ?? (systemDark() ? "dark" : "light");
}

/**
 * Keeps `nbc-dark` right on the elements it is given while the OS or Lab theme changes.
 * `choice()` is asked each time (the toggle or the app's `ui.theme.default` may change it).
 */
export class SchemeWatcher {
  private readonly targets = new Set<HTMLElement>();
  private readonly offs: (() => void)[] = [];

  constructor(private readonly doc: Document, private readonly choice: () => SchemeChoice) {
    const media = typeof globalThis.matchMedia === "function" ? globalThis.matchMedia("(prefers-color-scheme: dark)") : null;
    if (media?.addEventListener) {
      const on = (): void => this.apply();
      media.addEventListener("change", on);
      this.offs.push(() => media.removeEventListener("change", on));
    }
    if (typeof MutationObserver === "function" && doc.body) {
      const obs = new MutationObserver(() => this.apply());
      obs.observe(doc.body, { attributes: true, attributeFilter: ["data-jp-theme-light"] });
      this.offs.push(() => obs.disconnect());
    }
  }

  add(el: HTMLElement): void {
    this.targets.add(el);
    this.apply();
  }

  get scheme(): Scheme {
    return resolveScheme(this.choice(), this.doc);
  }

  apply(): void {
    const dark = this.scheme === "dark";
    for (const el of this.targets) {
      el.classList.toggle("nbc-dark", dark);
      el.dataset.scheme = dark ? "dark" : "light";
    }
  }

  dispose(): void {
    for (const off of this.offs) off();
    this.targets.clear();
  }
}
