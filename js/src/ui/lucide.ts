/**
 * Step icons by Lucide name (`cl.Step(icon="globe")`, as Chainlit draws them). Chainlit
 * bundles the whole Lucide set; nbchat draws its own small 16-px glyphs for a common set
 * of names (and their usual aliases) with the shared SVG helper, so the page needs no
 * icon font or download. `stepIcon` is null for a name it does not know: the step then
 * keeps its type's default marker.
 */
import { type Shape, icon } from "./icons";

const CIRCLE = (cx: number, cy: number, r: number): string =>
  `M${cx + r} ${cy}a${r} ${r} 0 1 1-${2 * r} 0a${r} ${r} 0 1 1 ${2 * r} 0`;

const GLYPHS: Record<string, string[]> = {
  search: [CIRCLE(7, 7, 4.5), "M10.5 10.5L14 14"],
  globe: [CIRCLE(8, 8, 6), "M2 8h12", "M8 2c-2.2 2-2.2 10 0 12", "M8 2c2.2 2 2.2 10 0 12"],
  brain: ["M7 3a2.5 2.5 0 0 0-3.5 2.3A2.6 2.6 0 0 0 3 10a2.5 2.5 0 0 0 4 2.8z",
    "M9 3a2.5 2.5 0 0 1 3.5 2.3A2.6 2.6 0 0 1 13 10a2.5 2.5 0 0 1-4 2.8z"],
  database: ["M3 4c0-1.1 2.2-2 5-2s5 .9 5 2-2.2 2-5 2-5-.9-5-2z", "M3 4v8c0 1.1 2.2 2 5 2s5-.9 5-2V4",
    "M3 8c0 1.1 2.2 2 5 2s5-.9 5-2"],
  code: ["M5.5 4.5L2 8l3.5 3.5", "M10.5 4.5L14 8l-3.5 3.5"],
  terminal: ["M2.5 4.5L6 8l-3.5 3.5", "M8 12h5.5"],
  file: ["M4 1.5h5l3.5 3.5v9.5h-8.5z", "M9 1.5V5h3.5"],
  "file-text": ["M4 1.5h5l3.5 3.5v9.5h-8.5z", "M9 1.5V5h3.5", "M6 8.5h4.5", "M6 11h4.5"],
  folder: ["M1.5 3.5h4.5l1.5 2h7v7.5h-13z"],
  wrench: ["M10 2.2a3.5 3.5 0 0 0-3 4.9l-4.8 4.8 1.9 1.9 4.8-4.8a3.5 3.5 0 0 0 4.9-3l-2.1 1.5-1.6-1.6z"],
  settings: [CIRCLE(8, 8, 2), CIRCLE(8, 8, 4.8), "M8 1.5v1.7", "M8 12.8v1.7", "M1.5 8h1.7", "M12.8 8h1.7"],
  sun: [CIRCLE(8, 8, 2.8), "M8 1.5v1.5", "M8 13v1.5", "M1.5 8H3", "M13 8h1.5", "M3.4 3.4l1 1",
    "M11.6 11.6l1 1", "M3.4 12.6l1-1", "M11.6 4.4l1-1"],
  moon: ["M13.5 9.5A5.5 5.5 0 1 1 6.5 2.5a4.5 4.5 0 0 0 7 7z"],
  sparkles: ["M8 1.5l1.5 5 5 1.5-5 1.5L8 14.5l-1.5-5-5-1.5 5-1.5z"],
  bot: ["M3 5.5h10v8H3z", "M8 2.5v3", "M6 9v1", "M10 9v1"],
  "message-square": ["M2 2.5h12v9H6l-3.5 3v-3H2z"],
  image: ["M2 2.5h12v11H2z", "M2 11l3.5-3.5 3 3 2-2 3.5 3.5", CIRCLE(10, 6, 1)],
  calculator: ["M3.5 1.5h9v13h-9z", "M5.5 4h5v2.5h-5z", "M6 9.5h0", "M8 9.5h0", "M10 9.5h0", "M6 12h0",
    "M8 12h0", "M10 12h0"],
  clock: [CIRCLE(8, 8, 6), "M8 4.5V8l2.5 1.5"],
  link: ["M6.5 9.5l3-3", "M7 4.5l1-1a2.8 2.8 0 0 1 4 4l-1 1", "M9 11.5l-1 1a2.8 2.8 0 0 1-4-4l1-1"],
  list: ["M6 4h8", "M6 8h8", "M6 12h8", "M2.5 4h0", "M2.5 8h0", "M2.5 12h0"],
  play: ["M4.5 2.5l9 5.5-9 5.5z"],
  zap: ["M9 1.5L3 9h4.5L7 14.5 13 7H8.5z"],
  check: ["M3 8.5l3 3 7-7"],
  "circle-check": [CIRCLE(8, 8, 6), "M5.5 8.2l1.8 1.8 3.3-3.5"],
  "triangle-alert": ["M8 2L1.5 13.5h13z", "M8 6.5v3", "M8 11.5h0"],
  info: [CIRCLE(8, 8, 6), "M8 7.5v4", "M8 5h0"],
  "book-open": ["M1.5 3.5c2-1 4.5-1 6.5.5v9.5c-2-1.5-4.5-1.5-6.5-.5z",
    "M14.5 3.5c-2-1-4.5-1-6.5.5v9.5c2-1.5 4.5-1.5 6.5-.5z"],
  cloud: ["M4.5 12.5a3 3 0 0 1-.3-6 4 4 0 0 1 7.6-1A3 3 0 0 1 12 12.5z"],
  mail: ["M1.5 3.5h13v9h-13z", "M1.5 4l6.5 5 6.5-5"],
  user: [CIRCLE(8, 5, 3), "M2.5 14.5a5.5 5.5 0 0 1 11 0"],
  lightbulb: ["M10.5 10.5A4.5 4.5 0 1 0 5.5 10.5V12h5z", "M6.5 14.5h3"],
  send: ["M14.5 1.5L7 9", "M14.5 1.5l-4.5 13-3-5.5-5.5-3z"],
  download: ["M8 2v8.5", "M4.5 7l3.5 3.5L11.5 7", "M2.5 13.5h11"],
  upload: ["M8 10.5V2", "M4.5 5.5L8 2l3.5 3.5", "M2.5 13.5h11"],
  table: ["M2 2.5h12v11H2z", "M2 6h12", "M2 9.5h12", "M6.5 6v7.5"],
  "chart-column": ["M2.5 13.5h11", "M4.5 11V8", "M8 11V4.5", "M11.5 11V6.5"],
  "map-pin": ["M8 14.5s4.5-4 4.5-8a4.5 4.5 0 0 0-9 0c0 4 4.5 8 4.5 8z", CIRCLE(8, 6.5, 1.5)],
  calendar: ["M2.5 3.5h11v10h-11z", "M2.5 6.5h11", "M5.5 2v3", "M10.5 2v3"],
  lock: ["M3.5 7.5h9v7h-9z", "M5.5 7.5V5a2.5 2.5 0 0 1 5 0v2.5"],
  key: ["M7.3 9.2a3 3 0 1 1 1-1.4L14 13.5v1h-1.5v-1.5H11v-1.5"],
  cpu: ["M4 4h8v8H4z", "M6.5 1.5V4", "M9.5 1.5V4", "M6.5 12v2.5", "M9.5 12v2.5", "M1.5 6.5H4", "M1.5 9.5H4",
    "M12 6.5h2.5", "M12 9.5h2.5"],
  pencil: ["M11 2.5l2.5 2.5L6 12.5 3 13l.5-3L11 2.5z"],
  "refresh-cw": ["M13 8a5 5 0 1 1-1.5-3.5", "M13 2.5v3h-3"],
};

/** Other Lucide names (and Lucide's older names) for the same glyphs. */
const ALIASES: Record<string, string> = {
  "scan-search": "search", "text-search": "search", earth: "globe", "globe-2": "globe",
  "brain-circuit": "brain", server: "database", "code-2": "code", "code-xml": "code", "square-terminal": "terminal",
  "file-code": "file", "file-json": "file", "folder-open": "folder", hammer: "wrench", tool: "wrench",
  cog: "settings", "settings-2": "settings", sparkle: "sparkles", wand: "sparkles", "wand-sparkles": "sparkles",
  "bot-message-square": "bot", "message-circle": "message-square", "messages-square": "message-square",
  "file-image": "image", "clock-3": "clock", timer: "clock", "link-2": "link", "list-checks": "list",
  "list-todo": "list", "list-ordered": "list", "circle-play": "play", "check-circle": "circle-check",
  "circle-check-big": "circle-check", "alert-triangle": "triangle-alert", "circle-alert": "triangle-alert",
  "alert-circle": "triangle-alert", book: "book-open", "cloud-sun": "cloud", "user-round": "user",
  "bar-chart": "chart-column", "bar-chart-2": "chart-column", "chart-bar": "chart-column",
  "line-chart": "chart-column", "chart-line": "chart-column", "table-2": "table", "calendar-days": "calendar",
  "pencil-line": "pencil", edit: "pencil", "rotate-cw": "refresh-cw", "refresh-ccw": "refresh-cw",
};

/** `BookOpen`, `book_open`, ` book-open ` → `book-open`. */
export function lucideName(name: string): string {
  return name.trim().replace(/([a-z0-9])([A-Z])/g, "$1-$2").replace(/[_\s]+/g, "-").toLowerCase();
}

/** The drawn icon for a Lucide name, or null when this set does not have it. */
export function stepIcon(name: string | null | undefined): SVGSVGElement | null {
  if (!name) return null;
  const key = lucideName(name);
  const paths = GLYPHS[key] ?? GLYPHS[ALIASES[key] ?? ""];
  if (!paths) return null;
  const svg = icon(paths.map((d): Shape => ["path", d]));
  svg.dataset.icon = key;
  return svg;
}

/** The names drawn (tests and docs). */
export const LUCIDE_NAMES: readonly string[] = [...Object.keys(GLYPHS), ...Object.keys(ALIASES)].sort();
