/**
 * Element names in a message become links (as Chainlit does for side/page elements):
 * each occurrence of a registered name in the rendered text is wrapped in a button that
 * opens the element. Text in code, links and buttons is left alone. When the name occurs,
 * the fallback link under the message (for texts that do not name it) is hidden.
 */
import { h } from "./dom";

export interface ElementLink { id: string; name: string; open(opener: HTMLElement): void }

const SKIP = "a, button, code, pre, .katex";

/** Wrap occurrences of the links' names in `root`; returns the ids that occur. */
export function linkifyNames(root: HTMLElement, links: readonly ElementLink[]): Set<string> {
  const found = new Set<string>();
  for (const node of root.querySelectorAll<HTMLElement>(".nbc-inline-element-link")) {
    const id = node.dataset.elementId;
    if (id && links.some((l) => l.id === id)) found.add(id);
  }
  const named = links.filter((l) => l.name);
  if (!named.length) return found;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const parent = (n as Text).parentElement;
    if (parent && !parent.closest(SKIP)) texts.push(n as Text);
  }
  for (const text of texts) {
    let node: Text | null = text;
    while (node) {
      const value: string = node.data;
      let best: { at: number; link: ElementLink } | null = null;
      for (const link of named) {
        const at = value.indexOf(link.name);
        if (at >= 0 && (!best || at < best.at || (at === best.at && link.name.length > best.link.name.length))) best = { at, link };
      }
      if (!best) break;
      const rest: Text = node.splitText(best.at);
      const after = rest.splitText(best.link.name.length);
      const { link } = best;
      const btn = h("button", { type: "button", class: "nbc-element-link nbc-inline-element-link",
        "data-element-id": link.id, "aria-haspopup": "dialog" }, link.name);
      btn.addEventListener("click", () => link.open(btn));
      rest.replaceWith(btn);
      found.add(link.id);
      node = after;
    }
  }
  return found;
}
