/**
 * Every UI string goes through `t(key)`. Tables are nested JSON with string leaves, the
 * format of Chainlit's `.chainlit/translations/<lang>.json`, looked up by dot path
 * ("chat.input.placeholder"). The shipped tables are the package's
 * `nbchat/translations/<locale>.json`; an app's own file (sent in the welcome config as
 * `translations`, see nbchat.chainlit_compat.translations) is laid over them, key by key.
 *
 * The locale: the user's pick (the page's language menu), `ui.language` when the app sets
 * it, else the browser's languages, matched
 * exactly, then by language ("pt-PT" → "pt-BR", "zh-TW" → "zh-CN"), else English.
 * Switching (`setLocale`) re-labels every element marked by `bind` at once: no reload.
 */
import de from "../../../src/nbchat/translations/de.json";
import en from "../../../src/nbchat/translations/en.json";
import es from "../../../src/nbchat/translations/es.json";
import fr from "../../../src/nbchat/translations/fr.json";
import ja from "../../../src/nbchat/translations/ja.json";
import ptBR from "../../../src/nbchat/translations/pt-BR.json";
import zhCN from "../../../src/nbchat/translations/zh-CN.json";

export interface Tree { [key: string]: string | Tree }

const STORAGE_KEY = "nbchat-language";

/** The language the user picked in the page's menu, or "". */
export function storedLanguage(): string {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) ?? "";
  } catch {
    return "";
  }
}

export function storeLanguage(tag: string): void {
  try {
    if (tag) globalThis.localStorage?.setItem(STORAGE_KEY, tag);
    else globalThis.localStorage?.removeItem(STORAGE_KEY);
  } catch {
    // not kept: still applied now
  }
}

/**
 * The locale to show: the user's pick, the app's `ui.language`, or the browser's best
 * match among the shipped locales and the app's own (`appLocales`).
 */
export function chooseLocale(appLanguage: string, appLocales: readonly string[] = []): string {
  const picked = storedLanguage() || appLanguage;
  if (picked) return picked;
  return pickLocale(browserLocales(), [...Object.keys(BUNDLED), ...appLocales]);
}

export const BUNDLED: Readonly<Record<string, Tree>> = { en, fr, de, es, "pt-BR": ptBR, "zh-CN": zhCN, ja };
/** Each shipped locale's name in its own language (the page's language menu). */
export const LOCALE_NAMES: Readonly<Record<string, string>> = {
  en: "English", fr: "Français", de: "Deutsch", es: "Español", "pt-BR": "Português (Brasil)", "zh-CN": "简体中文", ja: "日本語",
};
/** Languages written right to left. */
const RTL = new Set(["ar", "arc", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"]);

/** "a.b.c" → leaf, for every string leaf of `tree`. */
export function flatten(tree: unknown, prefix = "", out = new Map<string, string>()): Map<string, string> {
  if (!tree || typeof tree !== "object") return out;
  for (const [key, value] of Object.entries(tree as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "string") out.set(path, value);
    else flatten(value, path, out);
  }
  return out;
}

const english = flatten(en);
let table = english;
let locale = "en";
const listeners = new Set<(locale: string) => void>();

/** The best of `available` for the wanted locales (most wanted first), or "en". */
export function pickLocale(wanted: readonly string[], available: readonly string[] = Object.keys(BUNDLED)): string {
  const base = (tag: string): string => tag.toLowerCase().split("-")[0] ?? "";
  for (const w of wanted) {
    const exact = available.find((a) => a.toLowerCase() === w.toLowerCase());
    if (exact) return exact;
    const same = available.find((a) => base(a) === base(w));
    if (same) return same;
  }
  return "en";
}

export function browserLocales(): string[] {
  const nav = globalThis.navigator;
  if (!nav) return [];
  return [...(nav.languages ?? []), nav.language].filter((l): l is string => typeof l === "string" && l.length > 0);
}

export function isRtl(tag: string): boolean {
  return RTL.has(tag.toLowerCase().split("-")[0] ?? "");
}

export function currentLocale(): string {
  return locale;
}

/**
 * Use `tag` (a shipped locale, or any tag the app's `overrides` translate): English, then
 * the shipped table, then the app's own strings. Bound elements are re-labelled.
 */
export function setLocale(tag: string, overrides?: unknown): void {
  const shipped = BUNDLED[tag] ?? BUNDLED[pickLocale([tag])];
  const next = new Map(english);
  for (const [k, v] of flatten(shipped)) next.set(k, v);
  for (const [k, v] of flatten(overrides)) next.set(k, v);
  table = next;
  locale = tag;
  for (const l of listeners) l(tag);
}

/** Called after every locale change; returns the unsubscribe. */
export function onLocaleChange(listener: (locale: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The string for `key`, with `{name}` placeholders filled; the key itself when unknown. */
export function t(key: string, vars?: Readonly<Record<string, string | number>>): string {
  const text = table.get(key) ?? key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m)) : text;
}

type Slot = "text" | "label" | "placeholder" | "title";
const ATTR: Record<Slot, string> = { text: "data-i18n", label: "data-i18n-label", placeholder: "data-i18n-placeholder",
  title: "data-i18n-title" };

/** Put `t(key)` in `el` (its text, aria-label, placeholder or title) and keep it there
 * when the locale changes (`relabel`). A label also sets the title when there is one. */
export function bind<E extends Element>(el: E, slot: Slot, key: string): E {
  el.setAttribute(ATTR[slot], key);
  apply(el, slot, key);
  return el;
}

function apply(el: Element, slot: Slot, key: string): void {
  const text = t(key);
  if (slot === "text") el.textContent = text;
  else if (slot === "label") {
    el.setAttribute("aria-label", text);
    if (el.hasAttribute("title")) el.setAttribute("title", text);
  } else el.setAttribute(slot, text);
}

/** Re-label every bound element under `root` (after `setLocale`). */
export function relabel(root: ParentNode): void {
  for (const slot of Object.keys(ATTR) as Slot[]) {
    for (const el of root.querySelectorAll(`[${ATTR[slot]}]`)) apply(el, slot, el.getAttribute(ATTR[slot]) ?? "");
  }
}
