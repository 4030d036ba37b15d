/** Tiny DOM helpers: the UI builds plain elements, no framework. */
import { t } from "./i18n";

type Child = Node | string | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, "").toLowerCase(), value);
    else if (key === "class") el.className = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

export function initials(name: string): string {
  const words = name.trim().split(/[\s_\-.@]+/).filter(Boolean);
  const letters = words.length > 1 ? (words[0]?.[0] ?? "") + (words[1]?.[0] ?? "") : name.trim().slice(0, 2);
  return letters.toUpperCase() || "?";
}

export function parseTime(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatTime(iso: string | null | undefined): string {
  const d = parseTime(iso);
  return d ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

export function formatDuration(start: string | null, end: string | null): string {
  const a = parseTime(start);
  const b = parseTime(end);
  if (!a || !b) return "";
  const ms = Math.max(0, b.getTime() - a.getTime());
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { class: "nbc-offscreen" });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

/** Briefly show "Copied" on a button. */
export function flashCopied(button: HTMLElement, ok: boolean): void {
  const old = [...button.childNodes];  // text or an icon: restored as it was
  button.textContent = ok ? t("common.actions.copied") : t("common.actions.copyFailed");
  setTimeout(() => { button.replaceChildren(...old); }, 1200);
}

/** A click on a code block's Copy button (delegated from the chat's root) copies its code. */
export function copyCodeOnClick(e: Event): void {
  const copy = (e.target as HTMLElement | null)?.closest?.(".nbc-copy");
  if (copy) {
    const code = copy.closest(".nbc-code")?.querySelector("code")?.textContent ?? "";
    void copyText(code).then((ok) => flashCopied(copy as HTMLElement, ok));
  }
}
