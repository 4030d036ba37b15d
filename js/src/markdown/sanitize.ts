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

/** True when a URL is safe to put in src/href of an element (no javascript:, data: only for media). */
export function isSafeUrl(url: string, allowData = false): boolean {
  const trimmed = url.trim().toLowerCase();
  if (trimmed.startsWith("javascript:") || trimmed.startsWith("vbscript:")) return false;
  if (trimmed.startsWith("data:")) return allowData && !trimmed.startsWith("data:text/html");
  return true;
}
