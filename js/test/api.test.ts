import { afterEach, describe, expect, it } from "vitest";
import { ApiClient, ApiError, readCookie } from "../src/api";
import { fakeFetch, json } from "./http";

afterEach(() => {
  document.cookie = "_xsrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
});

describe("API client", () => {
  it("lists threads with first / cursor / search in the query, and no XSRF header on GET", async () => {
    const { fetch, calls } = fakeFetch({ "GET /root/nbchat/api/threads": () =>
      json({ pageInfo: { hasNextPage: false, endCursor: null }, data: [] }) });
    document.cookie = "_xsrf=2|abc|def|123";
    const api = new ApiClient({ baseUrl: "/root/nbchat/api/", fetch });
    await api.listThreads({ first: 30, cursor: "c 1/2", search: "  plot data  " });
    await api.listThreads({ search: "   " });
    expect(calls[0]?.url).toBe("/root/nbchat/api/threads?first=30&cursor=c%201%2F2&search=plot%20data");
    expect(calls[1]?.url).toBe("/root/nbchat/api/threads");
    expect(calls[0]?.headers["X-XSRFToken"]).toBeUndefined();
  });

  it("sends its fixed query (the widget's store) with every call", async () => {
    const { fetch, calls } = fakeFetch({
      "GET /api/threads": () => json({ pageInfo: { hasNextPage: false, endCursor: null }, data: [] }),
      "DELETE /api/threads/t1": () => json(null, 204),
    });
    const api = new ApiClient({ baseUrl: "/api", fetch, query: { store: "0123abcd" } });
    await api.listThreads({ search: "x" });
    await api.deleteThread("t1");
    expect(calls.map((c) => c.url)).toEqual(["/api/threads?store=0123abcd&search=x", "/api/threads/t1?store=0123abcd"]);
    expect(api.fileUrl("t1", "e1")).toBe("/api/threads/t1/files/e1?store=0123abcd");
  });

  it("sends the _xsrf cookie as X-XSRFToken on calls that change something", async () => {
    const { fetch, calls } = fakeFetch({
      "PATCH /api/threads/t%201": () => json({ id: "t 1", name: "New", shared: true }),
      "DELETE /api/threads/t1": () => json(null, 204),
      "PUT /api/threads/t1/steps/s1/feedback": () => json({ id: "f1", forId: "s1", value: 1 }),
    });
    document.cookie = `_xsrf=${encodeURIComponent("2|ab=c|d")}`;
    const api = new ApiClient({ baseUrl: "/api", fetch, token: "tok" });
    expect(readCookie("_xsrf")).toBe("2|ab=c|d");
    expect(await api.patchThread("t 1", { name: "New", shared: true })).toEqual({ id: "t 1", name: "New", shared: true });
    expect(calls[0]).toMatchObject({ method: "PATCH", body: { name: "New", shared: true },
      headers: { "X-XSRFToken": "2|ab=c|d", "Content-Type": "application/json", Authorization: "token tok" } });
    expect(await api.deleteThread("t1")).toBeUndefined();
    expect(calls[1]?.headers["X-XSRFToken"]).toBe("2|ab=c|d");
    await api.putFeedback("t1", "s1", 1, "great");
    expect(calls[2]?.body).toEqual({ value: 1, comment: "great" });
  });

  it("turns the error shape into ApiError(status, code, message)", async () => {
    const { fetch } = fakeFetch({
      "GET /api/threads/nope": () => json({ error: { code: "not_found", message: "no thread 'nope'" }, status: 404 }, 404),
      "PATCH /api/threads/t1": () => json({ error: { code: "forbidden", message: "'_xsrf' argument missing" }, status: 403 }, 403),
      "GET /api/threads/html": () => new Response("<h1>Bad Gateway</h1>", { status: 502, statusText: "Bad Gateway" }),
    });
    const api = new ApiClient({ baseUrl: "/api", fetch });
    const err = await api.getThread("nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: "not_found", message: "no thread 'nope'" });
    await expect(api.patchThread("t1", { name: "x" })).rejects.toMatchObject({ status: 403, code: "forbidden" });
    await expect(api.getThread("html")).rejects.toMatchObject({ status: 502, code: "http_502", message: "Bad Gateway" });
    const down = new ApiClient({ baseUrl: "/api", fetch: () => Promise.reject(new TypeError("Failed to fetch")) });
    await expect(down.listThreads()).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("builds file URLs under the API root", () => {
    const api = new ApiClient({ baseUrl: "/r/nbchat/api", fetch: fakeFetch({}).fetch });
    expect(api.fileUrl("t/1", "e 1")).toBe("/r/nbchat/api/threads/t%2F1/files/e%201");
  });
});
