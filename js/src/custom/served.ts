/** Custom elements in the served page: the code at `{root}public/elements/<name>.js`,
 * the frame runtime next to page.js (both allowed by the frame's CSP, nothing else). */
import { siblingUrl } from "../ui/plotly";
import type { CustomElementHost } from "./host";

export function servedCustomElements(rootPath: string, base: string = location.href): CustomElementHost {
  const root = new URL(rootPath, base);
  const frameScript = siblingUrl("element-frame.js");
  return {
    async code(name) {
      const url = new URL(`public/elements/${encodeURIComponent(name)}.js`, root).href;
      // The frame's import() only says "failed"; the server's answer says why.
      const res = await fetch(url, { credentials: "omit" });
      if (!res.ok) {
        const body = await res.json().catch(() => null) as { error?: { message?: string } } | null;
        throw new Error(body?.error?.message ?? `${url} answered ${res.status}`);
      }
      return { url };
    },
    frameScript: { src: frameScript },
    scriptOrigins: [new URL(".", frameScript).href, new URL("public/elements/", root).href],
  };
}
