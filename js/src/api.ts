/**
 * Client of the history REST API (docs/rest-api.md), used by the served page and by the
 * widget's history panel when the Jupyter server extension is reachable.
 *
 * - Same-origin cookies are sent (`credentials: "same-origin"`).
 * - Calls that change something carry the `_xsrf` cookie as `X-XSRFToken` (tornado's rule).
 * - In Jupyter, a page-config `token` is sent as `Authorization: token …` as well.
 * - Every non-2xx answer becomes an `ApiError` with the server's `{error: {code, message}, status}`.
 */
import type { ElementDict, StepDict } from "./protocol";

export interface ThreadSummary {
  id: string;
  createdAt: string;
  /** Not in every server version; grouping falls back to createdAt. */
  updatedAt?: string | null;
  name: string | null;
  shared?: boolean;
  userIdentifier?: string | null;
  tags?: string[] | null;
  metadata?: Record<string, unknown> | null;
}

export interface Thread extends ThreadSummary {
  steps: Partial<StepDict>[];
  elements: Partial<ElementDict>[] | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  startCursor?: string | null;
  endCursor: string | null;
}

export interface ThreadPage {
  pageInfo: PageInfo;
  data: ThreadSummary[];
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiOptions {
  /** `{root}nbchat/api` (no trailing slash needed). */
  baseUrl: string;
  fetch?: FetchLike;
  /** Jupyter's API token, sent as `Authorization: token …` when set. */
  token?: string | null;
  /** Where cookies are read from (tests). */
  doc?: Document;
  /** Sent with every call, e.g. the widget's `store` (its kernel's chat store). */
  query?: Record<string, string>;
}

/** Value of a cookie, or null. */
export function readCookie(name: string, doc: Document | undefined = globalThis.document): string | null {
  const all = doc?.cookie ?? "";
  for (const part of all.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return part.slice(eq + 1).trim();
      }
    }
  }
  return null;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export class ApiClient {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;

  constructor(private readonly options: ApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  url(path: string, query: Record<string, string | number | null | undefined> = {}): string {
    const params = Object.entries({ ...this.options.query, ...query })
      .filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
    return `${this.baseUrl}${path}${params.length ? `?${params.join("&")}` : ""}`;
  }

  /** Accept, the XSRF token for methods that change something, Jupyter's token. */
  private headers(method: string): Record<string, string> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (!SAFE_METHODS.has(method)) {
      const xsrf = readCookie("_xsrf", this.options.doc);
      if (xsrf) headers["X-XSRFToken"] = xsrf;
    }
    if (this.options.token) headers.Authorization = `token ${this.options.token}`;
    return headers;
  }

  async request<T>(method: string, path: string, opts: { query?: Record<string, string | number | null | undefined>;
    json?: unknown; body?: BodyInit; signal?: AbortSignal } = {}): Promise<T> {
    const headers = this.headers(method);
    let body = opts.body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(path, opts.query), {
        method, headers, body, credentials: "same-origin", signal: opts.signal,
      });
    } catch (err) {
      if ((err as { name?: string })?.name === "AbortError") throw err;
      throw new ApiError(0, "network_error", `could not reach the server (${String((err as Error)?.message ?? err)})`);
    }
    if (!res.ok) throw await errorFrom(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  listThreads(opts: { first?: number; cursor?: string | null; search?: string | null; feedback?: 0 | 1 | null;
    signal?: AbortSignal } = {}): Promise<ThreadPage> {
    return this.request<ThreadPage>("GET", "/threads", {
      query: { first: opts.first, cursor: opts.cursor, search: opts.search?.trim() || null, feedback: opts.feedback },
      signal: opts.signal,
    });
  }

  getThread(id: string): Promise<Thread> {
    return this.request<Thread>("GET", `/threads/${encodeURIComponent(id)}`);
  }

  patchThread(id: string, patch: { name?: string; shared?: boolean }): Promise<{ id: string; name: string | null; shared: boolean }> {
    return this.request("PATCH", `/threads/${encodeURIComponent(id)}`, { json: patch });
  }

  deleteThread(id: string): Promise<void> {
    return this.request<void>("DELETE", `/threads/${encodeURIComponent(id)}`);
  }

  putFeedback(threadId: string, stepId: string, value: 0 | 1, comment?: string | null): Promise<unknown> {
    return this.request("PUT", `/threads/${encodeURIComponent(threadId)}/steps/${encodeURIComponent(stepId)}/feedback`,
      { json: comment === undefined ? { value } : { value, comment } });
  }

  deleteFeedback(threadId: string, stepId: string): Promise<void> {
    return this.request<void>("DELETE", `/threads/${encodeURIComponent(threadId)}/steps/${encodeURIComponent(stepId)}/feedback`);
  }

  uploadFiles(threadId: string, files: File[]): Promise<{ files: { id: string; name: string; mime: string; size: number;
    type: string; url: string }[] }> {
    const form = new FormData();
    for (const f of files) form.append("file", f, f.name);
    return this.request("POST", `/threads/${encodeURIComponent(threadId)}/files`, { body: form });
  }

  /**
   * PUT the bytes of a live chat's upload to its ticket (docs/protocol.md, HTTP uploads).
   * XMLHttpRequest rather than fetch: only it reports upload progress.
   */
  putUpload(ticket: string, file: Blob, onProgress?: (fraction: number) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", this.url(`/uploads/${encodeURIComponent(ticket)}`));
      for (const [name, value] of Object.entries(this.headers("PUT"))) xhr.setRequestHeader(name, value);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = (e) => { if (e.lengthComputable && e.total > 0) onProgress?.(e.loaded / e.total); };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(errorFromText(xhr.status, xhr.statusText, xhr.responseText));
      };
      xhr.onerror = () => reject(new ApiError(0, "network_error", "could not reach the server to upload"));
      xhr.onabort = () => reject(new ApiError(0, "aborted", "the upload was aborted"));
      xhr.send(file);
    });
  }

  fileUrl(threadId: string, elementId: string): string {
    return this.url(`/threads/${encodeURIComponent(threadId)}/files/${encodeURIComponent(elementId)}`);
  }

  getElement(threadId: string, elementId: string): Promise<ElementDict> {
    return this.request<ElementDict>("GET", `/threads/${encodeURIComponent(threadId)}/elements/${encodeURIComponent(elementId)}`);
  }
}

async function errorFrom(res: Response): Promise<ApiError> {
  let text = "";
  try {
    text = await res.text();
  } catch {
    // no body
  }
  return errorFromText(res.status, res.statusText, text);
}

/** The server's `{error: {code, message}}`, or the status text (a proxy's error page). */
function errorFromText(status: number, statusText: string, text: string): ApiError {
  let code = `http_${status}`;
  let message = statusText || `HTTP ${status}`;
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body?.error && typeof body.error === "object") {
      if (typeof body.error.code === "string") code = body.error.code;
      if (typeof body.error.message === "string") message = body.error.message;
    }
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(status, code, message);
}
