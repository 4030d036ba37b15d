// Fails the build and the tests with a clear message on a Node.js older than package.json's
// engines.node (vite 7 needs ^20.19 || >=22.12; older Nodes fail deep inside it instead).
// `node check-node.mjs [VERSION]` checks VERSION (default: this Node). `npm install` and
// `npm ci` refuse such a Node by themselves (engine-strict in .npmrc).
// Only the range forms package-lock.json uses are understood: `A || B`, `>= X.Y.Z`, `^X.Y.Z`.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function parse(version) {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(version.trim());
  if (!m) throw new Error(`cannot read the version "${version}"`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** Whether `version` is in `range`. */
export function satisfies(version, range) {
  const v = parse(version);
  return range.split("||").some((part) => {
    const m = /^\s*(>=|\^)\s*(\S+)\s*$/.exec(part);
    if (!m) throw new Error(`cannot read the version range "${part.trim()}"`);
    const low = parse(m[2]);
    return compare(v, low) >= 0 && (m[1] === ">=" || v[0] === low[0]);
  });
}

/** The lowest version each alternative of `range` admits (the Nodes to check against). */
export function lowest(range) {
  return range.split("||").map((part) => part.replace(/^\s*(>=|\^)\s*v?/, "").trim());
}

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const range = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).engines.node;
  const version = process.argv[2] ?? process.versions.node;
  if (!satisfies(version, range)) {
    console.error(`nbchat's front end needs Node.js ${range}; this is Node.js ${version}. ` +
      "Install a newer Node.js (https://nodejs.org/ or your package manager) and retry.");
    process.exit(1);
  }
}
