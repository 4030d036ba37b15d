/**
 * Small inline SVG icons. Glyphs such as emoji depend on the fonts of the user's machine
 * (headless Linux often has no emoji font and shows empty boxes); SVG always draws.
 * Built with DOM calls, never innerHTML, and hidden from assistive tech: the buttons
 * carrying them have their own aria-label.
 */
const NS = "http://www.w3.org/2000/svg";

export type Shape = ["path", string] | ["rect", number, number, number, number];

export function icon(shapes: Shape[]): SVGSVGElement {
  const svg = document.createElementNS(NS, "svg");
  for (const [name, value] of Object.entries({
    viewBox: "0 0 16 16", width: "14", height: "14", fill: "none", stroke: "currentColor",
    "stroke-width": "1.5", "stroke-linecap": "round", "stroke-linejoin": "round",
    "aria-hidden": "true", focusable: "false", class: "nbc-icon",
  })) svg.setAttribute(name, value);
  for (const shape of shapes) {
    const el = document.createElementNS(NS, shape[0]);
    if (shape[0] === "path") el.setAttribute("d", shape[1]);
    else {
      const [, x, y, w, hgt] = shape;
      for (const [k, v] of Object.entries({ x, y, width: w, height: hgt, rx: 1.5 })) el.setAttribute(k, String(v));
    }
    svg.append(el);
  }
  return svg;
}

/** Two overlapping sheets. */
export const copyIcon = (): SVGSVGElement =>
  icon([["rect", 5.5, 5.5, 8, 8], ["path", "M3.5 10.5h-1v-8h8v1"]]);

/** A fork: two branches joining into one stem. */
export const forkIcon = (): SVGSVGElement =>
  icon([["path", "M2.5 3a1.5 1.5 0 1 0 3 0a1.5 1.5 0 1 0-3 0"], ["path", "M10.5 3a1.5 1.5 0 1 0 3 0a1.5 1.5 0 1 0-3 0"],
    ["path", "M6.5 13a1.5 1.5 0 1 0 3 0a1.5 1.5 0 1 0-3 0"], ["path", "M4 4.5v1a2 2 0 0 0 2 2h4a2 2 0 0 0 2-2v-1M8 7.5v4"]]);

/** A thumb pointing up: palm block and raised thumb. */
export const thumbUpIcon = (): SVGSVGElement =>
  icon([["path", "M2 7h2.5v7H2z"], ["path", "M4.5 13.5h6.8a1.5 1.5 0 0 0 1.5-1.2l.9-4.3A1.5 1.5 0 0 0 12.2 6H9.5l.5-2.6A1.4 1.4 0 0 0 7.4 2.8L4.5 7.3"]]);

/** The same thumb, pointing down. */
export const thumbDownIcon = (): SVGSVGElement =>
  icon([["path", "M2 2h2.5v7H2z"], ["path", "M4.5 2.5h6.8a1.5 1.5 0 0 1 1.5 1.2l.9 4.3A1.5 1.5 0 0 1 12.2 10H9.5l.5 2.6a1.4 1.4 0 0 1-2.6.6L4.5 8.7"]]);

/** A paper clip. */
export const attachIcon = (): SVGSVGElement =>
  icon([["path", "M13 7.5l-5.3 5.3a3.2 3.2 0 0 1-4.5-4.5L8.6 2.9a2.1 2.1 0 0 1 3 3L6.3 11.2a1 1 0 0 1-1.5-1.5L9.6 5"]]);

/** An arrow pointing up (send). */
export const sendIcon = (): SVGSVGElement => icon([["path", "M8 13V3.5M3.8 7.5 8 3.3l4.2 4.2"]]);

/** An arrow pointing down (jump to the latest message). */
export const arrowDownIcon = (): SVGSVGElement => icon([["path", "M8 3v9.5M3.8 8.5 8 12.7l4.2-4.2"]]);

/** A filled square (stop). */
export const stopIcon = (): SVGSVGElement => {
  const svg = icon([["rect", 4.5, 4.5, 7, 7]]);
  svg.querySelector("rect")?.setAttribute("fill", "currentColor");
  return svg;
};

/** Sliders (chat settings). */
export const settingsIcon = (): SVGSVGElement =>
  icon([["path", "M2.5 4.5h6M11.5 4.5h2M2.5 11.5h2M7.5 11.5h6M10 3v3M6 10v3"]]);

/** Three lines (the sidebar toggle). */
export const menuIcon = (): SVGSVGElement => icon([["path", "M2.5 4h11M2.5 8h11M2.5 12h11"]]);

/** A pencil on a sheet (new chat). */
export const newChatIcon = (): SVGSVGElement =>
  icon([["path", "M7 2.5H3.5a1 1 0 0 0-1 1v9a1 1 0 0 0 1 1h9a1 1 0 0 0 1-1V9"], ["path", "M11.8 2.2a1.2 1.2 0 0 1 1.7 1.7L8 9.4l-2.2.5.5-2.2z"]]);

/** A sun (light theme) and a moon (dark theme). */
export const sunIcon = (): SVGSVGElement =>
  icon([["path", "M8 5.2a2.8 2.8 0 1 0 0 5.6 2.8 2.8 0 0 0 0-5.6zM8 1.5v1.3M8 13.2v1.3M1.5 8h1.3M13.2 8h1.3M3.4 3.4l.9.9M11.7 11.7l.9.9M3.4 12.6l.9-.9M11.7 4.3l.9-.9"]]);
export const moonIcon = (): SVGSVGElement => icon([["path", "M13.5 9.6A5.6 5.6 0 0 1 6.4 2.5a5.6 5.6 0 1 0 7.1 7.1z"]]);
