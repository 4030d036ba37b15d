// Builds src/nbchat/static/widget.js (anywidget ESM, CSS inside) and widget.css, plus
// page.js for served mode, plotly.js (loaded on demand, see src/ui/plotly.ts), and
// element-frame.js (the runtime of custom elements' sandboxed frames, src/custom/).
// Everything is bundled: no CDN; nothing is fetched from elsewhere at run time.
import * as esbuild from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "..", "src", "nbchat", "static");
const watch = process.argv.includes("--watch");

// KaTeX fonts inlined as woff2 data URLs: the common faces only. Other faces
// (bold, AMS, Fraktur, Script, SansSerif, Typewriter, Caligraphic) fall back to system fonts.
const KEEP_FONTS = new Set([
  "KaTeX_Main-Regular", "KaTeX_Main-Italic", "KaTeX_Math-Italic",
  "KaTeX_Size1-Regular", "KaTeX_Size2-Regular", "KaTeX_Size3-Regular", "KaTeX_Size4-Regular",
]);

const katexFonts = {
  name: "katex-fonts",
  setup(build) {
    build.onResolve({ filter: /^fonts\/KaTeX_.*\.(woff2|woff|ttf)$/ }, (args) => {
      const m = /fonts\/(KaTeX_[^.]+)\.(\w+)$/.exec(args.path);
      if (m && m[2] === "woff2" && KEEP_FONTS.has(m[1])) {
        return { path: join(args.resolveDir, args.path) };
      }
      return { path: args.path, namespace: "dropped-font" };
    });
    build.onLoad({ filter: /.*/, namespace: "dropped-font" }, () => ({ contents: "", loader: "empty" }));
  },
};

async function buildCss() {
  const result = await esbuild.build({
    entryPoints: [join(here, "src", "ui", "index.css")],
    bundle: true,
    minify: true,
    write: false,
    outfile: "widget.css",
    loader: { ".woff2": "dataurl" },
    plugins: [katexFonts],
    logLevel: "warning",
  });
  const css = result.outputFiles[0].text
    // drop the src entries whose fonts were not kept: url() left empty by the plugin
    .replace(/,?url\(\)\s*format\("(?:woff2?|truetype)"\)/g, "")
    .replace(/@font-face\{[^}]*\}/g, (face) => (face.includes("url(") ? face : ""));
  return css;
}

const cssPlugin = (css) => ({
  name: "nbchat-css",
  setup(build) {
    build.onResolve({ filter: /^nbchat:css$/ }, () => ({ path: "css", namespace: "nbchat-css" }));
    build.onLoad({ filter: /.*/, namespace: "nbchat-css" }, () => ({
      contents: `export default ${JSON.stringify(css)};`,
      loader: "js",
    }));
  },
});

// The custom-element frame runtime: a classic script (the page loads it by URL from the
// frame, which needs no CORS for a classic script), and its text inside widget.js (the
// widget writes it into the frame's srcdoc: anywidget's module has no URL to load from).
async function buildFrameRuntime() {
  const result = await esbuild.build({
    entryPoints: [join(here, "src", "custom", "frame-runtime.ts")],
    bundle: true, format: "iife", target: "es2020", minify: !watch, write: false,
    outfile: "element-frame.js", logLevel: "warning",
  });
  return result.outputFiles[0].text;
}

const textPlugin = (name, text) => ({
  name,
  setup(build) {
    const filter = new RegExp(`^${name}$`);
    build.onResolve({ filter }, () => ({ path: name, namespace: name }));
    build.onLoad({ filter: /.*/, namespace: name }, () => ({
      contents: `export default ${JSON.stringify(text)};`,
      loader: "js",
    }));
  },
});

async function main() {
  mkdirSync(outdir, { recursive: true });
  const css = await buildCss();
  writeFileSync(join(outdir, "widget.css"), css);
  const frameRuntime = await buildFrameRuntime();
  writeFileSync(join(outdir, "element-frame.js"), frameRuntime);
  const options = {
    entryPoints: { widget: join(here, "src", "widget.ts"), page: join(here, "src", "page.ts") },
    bundle: true,
    format: "esm",
    target: "es2020",
    minify: !watch,
    sourcemap: false,
    legalComments: "eof",
    outdir,
    plugins: [cssPlugin(css), textPlugin("nbchat:frame-runtime", frameRuntime)],
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
  };
  if (watch) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
    console.log("watching js/src …");
    return;
  }
  await esbuild.build(options);
  // plotly.js on its own: imported by ui/plotly.ts only when a figure arrives, so the
  // first load of the page and the widget stays the same size. Already minified upstream.
  await esbuild.build({
    entryPoints: { plotly: join(here, "src", "plotly-entry.ts") },
    bundle: true, format: "esm", target: "es2020", minify: true, legalComments: "eof",
    outdir, logLevel: "warning",
  });
  for (const name of ["widget.js", "page.js", "widget.css", "plotly.js", "element-frame.js"]) {
    const bytes = (await import("node:fs")).readFileSync(join(outdir, name));
    console.log(`${name}: ${(bytes.length / 1024).toFixed(1)} KiB, gzip ${(gzipSync(bytes).length / 1024).toFixed(1)} KiB`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
