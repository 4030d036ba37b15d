/** `$…$` (inline) and `$$…$$` (display) LaTeX through KaTeX, as a marked extension. */
import katex from "katex";
import type { TokenizerAndRendererExtension, Tokens } from "marked";
import { escapeHtml } from "./highlight";

function renderMath(tex: string, displayMode: boolean): string {
  try {
    return katex.renderToString(tex, { displayMode, throwOnError: false, output: "htmlAndMathml" });
  } catch {
    return `<code>${escapeHtml(tex)}</code>`;
  }
}

const BLOCK = /^\$\$([\s\S]+?)\$\$[ \t]*(?:\n|$)/;
// An opening `$` followed by non-space, a closing `$` preceded by non-space and not
// followed by a digit, so "$5 and $10" stays text.
const INLINE = /^\$(?!\s)((?:\\[\s\S]|[^\\$\n])+?)(?<!\s)\$(?!\d)/;
const INLINE_DISPLAY = /^\$\$((?:\\[\s\S]|[^\\$])+?)\$\$/;

interface MathToken extends Tokens.Generic {
  text: string;
  display: boolean;
}

export const mathBlock: TokenizerAndRendererExtension = {
  name: "mathBlock",
  level: "block",
  start: (src: string) => {
    const i = src.indexOf("$$");
    return i < 0 ? undefined : i;
  },
  tokenizer(src: string) {
    const m = BLOCK.exec(src);
    if (!m || m[1] === undefined) return undefined;
    return { type: "mathBlock", raw: m[0], text: m[1].trim(), display: true } as MathToken;
  },
  renderer: (token) => `<div class="nbc-math">${renderMath((token as MathToken).text, true)}</div>`,
};

export const mathInline: TokenizerAndRendererExtension = {
  name: "mathInline",
  level: "inline",
  start: (src: string) => {
    const i = src.indexOf("$");
    return i < 0 ? undefined : i;
  },
  tokenizer(src: string) {
    const d = INLINE_DISPLAY.exec(src);
    if (d && d[1] !== undefined) return { type: "mathInline", raw: d[0], text: d[1], display: true } as MathToken;
    const m = INLINE.exec(src);
    if (!m || m[1] === undefined) return undefined;
    return { type: "mathInline", raw: m[0], text: m[1], display: false } as MathToken;
  },
  renderer: (token) => renderMath((token as MathToken).text, (token as MathToken).display),
};
