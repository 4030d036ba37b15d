/**
 * Author avatars as Chainlit shows them: non-user messages show the image the host serves
 * for the author (the page: `{root}avatars/{author}`, i.e. `public/avatars/<author>.<ext>`),
 * and nothing when there is none (404) or the host has no avatar route (the notebook widget:
 * Jupyter does not serve the app's public/ folder). No initials: like Chainlit, a message
 * without an image has no avatar, and the user's own messages never have one.
 */

/** The served route of an author's avatar (`nbchat.server.avatars`). */
export function servedAvatarUrl(rootPath: string, author: string): string {
  return `${rootPath}avatars/${encodeURIComponent(author)}`;
}

/** URLs that failed once: later messages by the same author show no avatar at once. */
const failed = new Set<string>();

export function showAvatar(box: HTMLElement, url: string | null): void {
  const current = box.querySelector("img");
  if (url && !failed.has(url)) {
    if (current?.getAttribute("src") === url) return;
    const img = document.createElement("img");
    img.alt = "";
    img.src = url;
    img.className = "nbc-avatar-img";
    img.decoding = "async";
    img.addEventListener("error", () => {
      failed.add(url);
      img.remove();
      box.classList.remove("nbc-has-img");
    }, { once: true });
    box.replaceChildren(img);
    box.classList.add("nbc-has-img");
    return;
  }
  box.classList.remove("nbc-has-img");
  box.replaceChildren();
}
