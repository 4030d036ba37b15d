import { afterEach, describe, expect, it, vi } from "vitest";
import { FrameScheduler } from "../src/frame";
import { ChatApp } from "../src/ui/app";
import { resetPlotly, siblingUrl } from "../src/ui/plotly";
import { FakeTransport, WELCOME, numbered, step } from "./fixtures";

/** A stand-in for static/plotly.js (the real one needs a layout engine jsdom lacks; the
 * Playwright test draws with it): an ES module whose newPlot draws an SVG. */
function fakeBundle(): string {
  return "data:text/javascript," + encodeURIComponent(`export default { newPlot(el, data, layout) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "main-svg");
    svg.dataset.traces = String(data.length);
    svg.dataset.title = layout.title ?? "";
    el.append(svg);
  } };`);
}

function app(scriptUrl?: (name: "plotly.js") => Promise<string>) {
  const transport = new FakeTransport();
  const el = document.createElement("div");
  document.body.append(el);
  new ChatApp(el, { transport, resolveFile: async (k) => k, scriptUrl }, { scheduler: new FrameScheduler((cb) => cb()) });
  return { transport, el };
}

const figure = { type: "element", element: { id: "p1", type: "plotly", name: "chart", display: "inline", forId: "a1",
  threadId: "t1", url: null, objectKey: null, mime: "application/json", content: JSON.stringify({ data: [{ x: [1], y: [2] }],
    layout: { title: "Sales" } }), size: null, language: null, page: null, autoPlay: null, props: {} } };

afterEach(() => { resetPlotly(); document.body.replaceChildren(); });

describe("plotly figures", () => {
  it("load the separate bundle on the first figure only and draw with it", async () => {
    const url = fakeBundle();
    const scriptUrl = vi.fn(async (name: "plotly.js") => (expect(name).toBe("plotly.js"), url));
    const { transport, el } = app(scriptUrl);
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1", { output: "plot" }) }]));
    expect(scriptUrl).not.toHaveBeenCalled(); // nothing is loaded before a figure arrives
    transport.deliver(numbered([figure, { ...figure, element: { ...figure.element, id: "p2" } }], 3));
    const svgs = await vi.waitFor(() => {
      const found = el.querySelectorAll<SVGElement>(".nbc-plotly .main-svg");
      if (found.length < 2) throw new Error(`not drawn yet: ${[...el.querySelectorAll(".nbc-plotly")].map((b) => b.textContent).join(" / ")}`);
      return found;
    });
    expect(svgs[0]?.dataset.traces).toBe("1");
    expect(svgs[0]?.dataset.title).toBe("Sales");
    expect(scriptUrl).toHaveBeenCalledTimes(1);
  });

  it("show the figure JSON when the bundle cannot be loaded", async () => {
    const { transport, el } = app(async () => { throw new Error("offline"); });
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1") }, figure]));
    const note = await vi.waitFor(() => el.querySelector(".nbc-plotly details") ?? Promise.reject(new Error("pending")));
    expect(note.textContent).toContain('"title":"Sales"');
    expect(el.querySelector(".nbc-plotly")?.textContent).toContain("offline");
  });

  it("the page finds the bundle next to page.js", () => {
    expect(siblingUrl("plotly.js", "http://h/app/static/page.js?v=abc")).toBe("http://h/app/static/plotly.js");
  });
});

describe("the widget's bundle channel", () => {
  it("asks the kernel for plotly.js over the comm and gets its bytes", async () => {
    const { CommTransport } = await import("../src/transports/comm");
    const sent: Record<string, unknown>[] = [];
    let handler: ((msg: unknown, buffers: DataView[]) => void) | null = null;
    const transport = new CommTransport({
      send: (content) => sent.push(content as Record<string, unknown>),
      on: (_n, cb) => { handler = cb; },
      off: () => { handler = null; },
      get: () => undefined,
    });
    const pending = transport.fetchAsset("plotly.js");
    expect(sent[0]).toMatchObject({ host: "asset_request", name: "plotly.js" });
    const bytes = new TextEncoder().encode("export default {}");
    handler!({ host: "file_response", requestId: sent[0]!.requestId, mime: "text/javascript" }, [new DataView(bytes.buffer)]);
    const blob = await pending;
    expect(blob.type).toBe("text/javascript");
    expect(blob.size).toBe(bytes.byteLength); // jsdom Blobs cannot be read back as text
  });
});

describe("plotly in the widget", () => {
  it("asks the kernel for the bundle only when a figure arrives, then draws with it", async () => {
    const widget = (await import("../src/widget")).default;
    const sent: Record<string, unknown>[] = [];
    let handler: ((msg: unknown, buffers: DataView[]) => void) | null = null;
    const model = {
      send: (content: unknown) => sent.push(content as Record<string, unknown>),
      on: (_n: string, cb: (msg: unknown, buffers: DataView[]) => void) => { handler = cb; },
      off: () => { handler = null; },
      get: () => undefined,
    };
    // jsdom has no blob: URLs to import from: the bundle's blob URL becomes a data: URL of the same module.
    const code = decodeURIComponent(fakeBundle().slice("data:text/javascript,".length));
    const created = vi.fn((_blob: Blob) => fakeBundle());
    const original = URL.createObjectURL;
    URL.createObjectURL = created; // jsdom has none
    const el = document.createElement("div");
    document.body.append(el);
    const cleanup = widget.render({ model, el });
    handler!({ events: numbered([WELCOME, { type: "step", step: step("a1", { output: "plot" }) }]) }, []);
    expect(sent.some((m) => m.host === "asset_request")).toBe(false);
    handler!({ events: numbered([figure], 3) }, []);
    const request = await vi.waitFor(() => sent.find((m) => m.host === "asset_request") ?? Promise.reject(new Error("no request")));
    expect(request.name).toBe("plotly.js");
    const bytes = new TextEncoder().encode(code);
    handler!({ host: "file_response", requestId: request.requestId, mime: "text/javascript" }, [new DataView(bytes.buffer)]);
    await vi.waitFor(() => el.querySelector(".nbc-plotly .main-svg") ?? Promise.reject(new Error("not drawn")));
    expect(created).toHaveBeenCalledTimes(1);
    expect(created.mock.calls[0]?.[0].type).toBe("text/javascript");
    URL.createObjectURL = original;
    cleanup();
  });
});
