/**
 * Runs inside a custom element's sandboxed frame (an opaque origin: no cookies, no
 * access to the chat page). Built on its own as `static/element-frame.js`, a classic
 * script. It waits for the chat's `init` message, imports the element's ES module and
 * calls its anywidget-style `render({ model, el })` with the props as the model.
 *
 *   chat → frame: {nbc: "init", name, props, module: {url} | {code}, theme}
 *                 {nbc: "props", props}                    the server sent new props
 *                 {nbc: "call_result", callId, success, response?, error?}
 *   frame → chat: {nbc: "ready"} {nbc: "height", height} {nbc: "update", props}
 *                 {nbc: "call", callId, name, payload} {nbc: "user_message", text}
 *                 {nbc: "error", message}
 *
 * Chainlit gives a custom element's code `props`, `updateElement`, `callAction`,
 * `sendUserMessage` (and `deleteElement`, not offered here): they are globals of the
 * frame and are also passed to `render` beside `model` and `el`.
 */
import { PropsModel } from "./model";

type Json = Record<string, unknown>;

interface Init {
  nbc: "init";
  name: string;
  props: Json;
  module: { url: string } | { code: string };
  theme?: Record<string, string>;
}

interface WidgetDef {
  initialize?(ctx: { model: PropsModel }): unknown;
  render?(ctx: { model: PropsModel; el: HTMLElement } & Json): unknown;
}

const post = (message: Json): void => window.parent.postMessage(message, "*");
const calls = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let model: PropsModel | null = null;
let nextCall = 0;

function showError(message: string): void {
  const box = document.createElement("pre");
  box.className = "nbc-frame-error";
  box.textContent = message;
  document.body.replaceChildren(box);
  post({ nbc: "error", message });
}

async function definition(mod: Json): Promise<WidgetDef> {
  let def = (mod.default ?? mod) as unknown;
  if (typeof def === "function") def = await (def as () => unknown)();
  if (!def || typeof (def as WidgetDef).render !== "function") {
    throw new Error("the module must export `default { render({ model, el }) { … } }` (anywidget's contract)");
  }
  return def as WidgetDef;
}

async function start(init: Init): Promise<void> {
  for (const [name, value] of Object.entries(init.theme ?? {})) document.documentElement.style.setProperty(name, value);
  const props = init.props;
  model = new PropsModel(props, (changed) => post({ nbc: "update", props: changed }));
  const api = {
    props,
    updateElement: (next: Json) => { model?.replace(next, true); return Promise.resolve({ success: true }); },
    callAction: (action: { name: string; payload?: Json }) => new Promise((resolve, reject) => {
      nextCall += 1;
      const callId = `c${nextCall}`;
      calls.set(callId, { resolve, reject });
      post({ nbc: "call", callId, name: String(action?.name ?? ""), payload: action?.payload ?? {} });
    }),
    sendUserMessage: (text: string) => post({ nbc: "user_message", text: String(text) }),
  };
  Object.assign(window, api);
  let url: string;
  if ("url" in init.module) url = init.module.url;
  else url = URL.createObjectURL(new Blob([init.module.code], { type: "text/javascript" }));
  let mod: Json;
  try {
    mod = await import(/* @vite-ignore */ url) as Json;
  } catch (err) {
    throw new Error(`could not load public/elements/${init.name}.js: ${String(err)}`);
  }
  const def = await definition(mod);
  await def.initialize?.({ model });
  const el = document.getElementById("root") ?? document.body;
  await def.render!({ model, el, ...api });
}

function onMessage(event: MessageEvent): void {
  if (event.source !== window.parent) return;
  const data = event.data as Json | null;
  if (!data || typeof data !== "object") return;
  if (data.nbc === "init" && !model) {
    start(data as unknown as Init).catch((err: unknown) => showError(err instanceof Error ? err.message : String(err)));
  } else if (data.nbc === "props" && model) {
    model.replace((data.props ?? {}) as Json, false);
  } else if (data.nbc === "call_result") {
    const waiter = calls.get(String(data.callId));
    calls.delete(String(data.callId));
    if (data.success) waiter?.resolve({ success: true, response: data.response });
    else waiter?.reject(new Error(String(data.error ?? "the action failed")));
  }
}

window.addEventListener("message", onMessage);
// The body's own height: the document's is at least the frame's (150 px by default).
const reportHeight = (): void => post({ nbc: "height", height: Math.ceil(document.body.getBoundingClientRect().height) });
new ResizeObserver(reportHeight).observe(document.body);
window.addEventListener("error", (e) => showError(String(e.message)));
window.addEventListener("unhandledrejection", (e) => showError(String((e as PromiseRejectionEvent).reason)));
post({ nbc: "ready" });
