/**
 * HTML sanitizing with DOMPurify: no script, no on* handlers, no javascript: URLs.
 * Links are made to open in a new tab with rel=noopener.
 */
import DOMPurify from "dompurify";

let purifier: ReturnType<typeof DOMPurify> | null = null;

function getPurifier(): ReturnType<typeof DOMPurify> {
  if (!purifier) purifier = DOMPurify(window);
  return purifier;
}

const CONFIG = {
  RETURN_DOM_FRAGMENT: true as const,
  ADD_ATTR: ["target"],
  FORBID_TAGS: ["style", "form"],
};

/** Sanitized fragment for untrusted HTML. */
export function sanitizeToFragment(html: string): DocumentFragment {
  const frag = getPurifier().sanitize(html, CONFIG) as unknown as DocumentFragment;
  fixLinks(frag);
  return frag;
}

/** Unsanitized fragment: only for author content when `ui.unsafe_allow_html` is on. */
export function trustedFragment(html: string): DocumentFragment {
  const template = document.createElement("template");
  template.innerHTML = html;
  fixLinks(template.content);
  return template.content;
}

export function fixLinks(root: ParentNode): void {
  for (const a of root.querySelectorAll("a[href]")) {
    a.setAttribute("target", "_blank");
    a.setAttribute("rel", "noopener noreferrer");
  }
}

/** Schemes an element's URL may have: fetched or shown, never run. */
const ELEMENT_SCHEMES = new Set(["http:", "https:", "blob:"]);
/** data: URLs only for media, and only with a type that renders without running code. */
const DATA_TYPES = /^(image\/(png|jpeg|gif|webp|avif|bmp)|audio\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+)$/;

/**
 * The URL an element's `src`/`href` may use, as the browser itself resolves it (against
 * the page's base): tabs, newlines and control characters inside or before a scheme
 * (`java\tscript:`, `\x01javascript:`) are what `new URL` strips too, so the checked
 * protocol is the one that would run. http(s) and blob: only; data: only when `media`,
 * with a safe image/audio/video type. The URL as given (the browser resolves it as
 * checked here), or null when not allowed.
 */
export function safeElementUrl(url: string, media = false,
  base: string = document.baseURI): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    return null;
  }
  if (ELEMENT_SCHEMES.has(parsed.protocol)) return url;
  if (parsed.protocol !== "data:" || !media) return null;
  const type = (parsed.pathname.split(/[;,]/, 1)[0] ?? "").trim().toLowerCase();
  return DATA_TYPES.test(type) ? url : null;
}
