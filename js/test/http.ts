import type { FetchLike } from "../src/api";

export interface Call { url: string; method: string; headers: Record<string, string>; body: unknown }

/** A fetch double: routes answer by "METHOD path" (path without the query), and calls are recorded. */
export function fakeFetch(routes: Record<string, (url: URL, call: Call) => Response | Promise<Response>>):
  { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = async (input, init = {}) => {
    const url = new URL(input, "http://localhost/");
    const method = (init.method ?? "GET").toUpperCase();
    const call: Call = { url: input, method, headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === "string" ? JSON.parse(init.body) : init.body };
    calls.push(call);
    const handler = routes[`${method} ${url.pathname}`];
    if (!handler) return json({ error: { code: "not_found", message: "no route" }, status: 404 }, 404);
    return handler(url, call);
  };
  return { fetch, calls };
}

export function json(body: unknown, status = 200): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export function thread(id: string, name: string | null, when: string, over: Record<string, unknown> = {}) {
  return { id, name, createdAt: when, shared: false, steps: [], elements: null, ...over };
}

/** Let pending promises settle. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise((r) => setTimeout(r, 0));
}
