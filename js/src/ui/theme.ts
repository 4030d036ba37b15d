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

  private theme: ThemeSpec | null = null;

  /** The app's theme tokens, applied now and on every scheme change. */
  setTheme(spec: ThemeSpec | null): void {
    this.theme = spec;
    this.apply();
  }

  apply(): void {
    const scheme = this.scheme;
    for (const el of this.targets) {
      el.classList.toggle("nbc-dark", scheme === "dark");
      el.dataset.scheme = scheme;
      if (this.theme) applyTheme(el, this.theme, scheme);
    }
  }

  dispose(): void {
    for (const off of this.offs) off();
    this.targets.clear();
  }
}

/** An app's `ui.theme` (nbchat.config.ThemeConfig) as the welcome config or page JSON holds it. */
export interface ThemeSpec {
  default?: unknown;
  radius?: unknown;
  font_family?: unknown;
  mono_font_family?: unknown;
  light?: unknown;
  dark?: unknown;
}

/** ThemeColors field → the CSS variable the stylesheet reads (styles.css). */
const COLOR_VARS: Readonly<Record<string, string>> = {
  primary: "--nbc-theme-primary", on_primary: "--nbc-theme-on-primary", background: "--nbc-theme-bg",
  surface: "--nbc-theme-bg2", surface_strong: "--nbc-theme-bg3", text: "--nbc-theme-fg", muted: "--nbc-theme-fg2",
  border: "--nbc-theme-border", user_bubble: "--nbc-theme-user-bg", code_background: "--nbc-theme-code-bg",
  error: "--nbc-theme-error",
};
const SHARED_VARS: Readonly<Record<string, string>> = {
  radius: "--nbc-theme-radius", font_family: "--nbc-theme-font", mono_font_family: "--nbc-theme-mono",
};

/** The app's default scheme, "system" when it sets none. */
export function themeDefault(spec: ThemeSpec | null | undefined): SchemeChoice {
  const d = spec?.default;
  return d === "light" || d === "dark" ? d : "system";
}

/** Set (or clear) the theme's variables on `el` for `scheme`; unset tokens keep nbchat's. */
export function applyTheme(el: HTMLElement, spec: ThemeSpec | null | undefined, scheme: Scheme): void {
  const colors = (spec?.[scheme] ?? {}) as Record<string, unknown>;
  const set = (name: string, value: unknown): void => {
    if (typeof value === "string" && value) el.style.setProperty(name, value);
    else el.style.removeProperty(name);
  };
  for (const [key, name] of Object.entries(COLOR_VARS)) set(name, colors[key]);
  for (const [key, name] of Object.entries(SHARED_VARS)) set(name, spec?.[key as keyof ThemeSpec]);
}
