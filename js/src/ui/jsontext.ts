/**
 * Step and message text that may not be a string: old stored threads (and apps before
 * the server turned dicts into JSON text) carry dicts/lists in `input`, `output` or a
 * message's content. Those show as formatted JSON; nothing here throws.
 */

/** A string as is; null/undefined as ""; anything else as indented JSON. */
export function asText(value: unknown): { text: string; json: boolean } {
  if (typeof value === "string") return { text: value, json: false };
  if (value === null || value === undefined) return { text: "", json: false };
  try {
    return { text: JSON.stringify(value, null, 2) ?? String(value), json: true };
  } catch {
    return { text: String(value), json: false }; // cyclic or BigInt: still something to show
  }
}

/** Markdown for a message or step output: non-strings become a ```json code block. */
export function asMarkdown(value: unknown): string {
  const { text, json } = asText(value);
  return json ? `\`\`\`json\n${text}\n\`\`\`` : text;
}

/** Run one renderer; its failure is logged and shown in `fallback`, never thrown, so one
 * broken part (input) does not blank the others (output, children). */
export function guarded(what: string, render: () => void, fallback?: (err: unknown) => void): void {
  try {
    render();
  } catch (err) {
    console.error(`nbchat: could not render ${what}`, err);
    fallback?.(err);
  }
}
