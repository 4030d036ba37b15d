import { describe, expect, it } from "vitest";
import widget from "../src/widget";
import type { CommModel } from "../src/transports/comm";
import { WELCOME, mountApp, numbered, step } from "./fixtures";

const setup = mountApp;

describe("widget entry", () => {
  it("sends hello on render and applies msg:custom batches", () => {
    const sent: unknown[] = [];
    let handler: ((msg: unknown, buffers: DataView[]) => void) | null = null;
    const model: CommModel = {
      send: (content) => sent.push(content),
      on: (_n, cb) => { handler = cb; },
      off: () => { handler = null; },
      get: (name) => (name === "height" ? 400 : undefined),
    };
    const el = document.createElement("div");
    const cleanup = widget.render({ model, el });
    expect(sent[0]).toEqual({ type: "hello", protocolVersion: 1 });
    handler!({ events: numbered([WELCOME, { type: "step", step: step("m1", { output: "Hi" }) }]) }, []);
    expect(el.querySelector('[role="article"]')?.getAttribute("aria-label")).toBe("Assistant");
    cleanup();
    expect(handler).toBeNull();
  });
});

describe("chat app", () => {
  it("starts over on a welcome of another session (the old one's worker died)", () => {
    const { transport, el, flush } = setup();
    transport.deliver(numbered([WELCOME,
      ...Array.from({ length: 30 }, (_, i) => ({ type: "step", step: step(`x${i}`, { output: `old ${i}` }) }))]));
    flush();
    expect(el.querySelectorAll('[role="article"]').length).toBe(30);
    transport.deliver([{ type: "error", seq: 0, code: "worker_lost", message: "lost" } as never]);
    // The resumed thread in a new session: numbered from 1 again, below the old last seq.
    transport.deliver(numbered([{ ...WELCOME, sessionId: "s2" },
      { type: "step", step: step("u1", { type: "user_message", name: "Ada", output: "stored" }) },
      { type: "step", step: step("a1", { output: "saved part" }) }]));
    flush();
    const articles = [...el.querySelectorAll('[role="article"]')];
    expect(articles.map((a) => a.textContent)).toEqual([
      expect.stringContaining("stored"), expect.stringContaining("saved part")]);
  });

  it("shows messages as articles named by author, user vs assistant", () => {
    const { transport, el, flush } = setup();
    transport.deliver(numbered([WELCOME,
      { type: "step", step: step("u1", { type: "user_message", name: "Ada", output: "Hello" }) },
      { type: "step", step: step("a1", { output: "**Hi** there" }) }]));
    flush();
    const articles = [...el.querySelectorAll('[role="article"]')];
    expect(articles.map((a) => a.getAttribute("aria-label"))).toEqual(["Ada", "Assistant"]);
    expect(articles[1]?.querySelector("strong")?.textContent).toBe("Hi");
    expect(articles[0]?.getAttribute("data-type")).toBe("user_message");
  });

  it("streams tokens into the message tail", () => {
    const { transport, el, flush } = setup();
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1", { streaming: true }) },
      { type: "token", id: "a1", delta: "Hel" }, { type: "token", id: "a1", delta: "lo" }]));
    flush();
    expect(el.querySelector(".nbc-msg-body")?.textContent).toContain("Hello");
  });

  it("nests steps under their parent as disclosure buttons", () => {
    const { transport, el, flush } = setup();
    transport.deliver(numbered([WELCOME,
      { type: "step", step: step("a1") },
      { type: "step", step: step("t1", { type: "tool", name: "search", parentId: "a1", output: "found",
        start: "2024-01-01T10:00:00Z" }) },
      { type: "step", step: step("t2", { type: "llm", name: "inner", parentId: "t1" }) }]));
    flush();
    const button = el.querySelector<HTMLButtonElement>('[data-id="t1"] > button');
    expect(button?.getAttribute("aria-expanded")).toBe("false");
    expect(el.querySelector('[data-id="t1"] [data-id="t2"]')).not.toBeNull();
    expect(el.querySelector('[data-id="a1"] [data-id="t1"]')).not.toBeNull();
    expect(el.querySelector('[data-id="t1"] .nbc-spinner')).not.toBeNull();
    button?.click();
    flush();
    expect(button?.getAttribute("aria-expanded")).toBe("true");
    expect(el.querySelector('[data-id="t1"] .nbc-step-output')?.textContent).toContain("found");
  });

  it("shows a step's dict input and list output as JSON instead of throwing", () => {
    const { transport, el, flush } = setup();
    transport.deliver(numbered([WELCOME,
      { type: "step", step: step("a1") },
      { type: "step", step: step("t1", { type: "tool", name: "search", parentId: "a1",
        showInput: "json", defaultOpen: true, end: "2024-01-01T10:00:01Z",
        input: { query: "cats" } as unknown as string, output: ["a", "b"] as unknown as string }) }]));
    flush();
    expect(el.querySelector('[data-id="t1"] .nbc-step-input')?.textContent).toContain('"query": "cats"');
    expect(el.querySelector('[data-id="t1"] .nbc-step-output')?.textContent).toContain('"a"');
  });

  it("lays out a step's compact JSON input text (an instrumented LLM call's messages)", () => {
    const { transport, el, flush } = setup();
    transport.deliver(numbered([WELCOME,
      { type: "step", step: step("l1", { type: "llm", name: "gpt", showInput: "json", defaultOpen: true,
        end: "2024-01-01T10:00:01Z", input: '[{"role":"user","content":"hi"}]' }) },
      { type: "step", step: step("l2", { type: "tool", name: "t", showInput: "json", defaultOpen: true,
        end: "2024-01-01T10:00:01Z", input: "[not json" }) }]));
    flush();
    expect(el.querySelector('[data-id="l1"] .nbc-step-input pre')?.textContent).toContain('\n    "role": "user"');
    expect(el.querySelector('[data-id="l2"] .nbc-step-input pre')?.textContent).toBe("[not json");
  });

  it("sends on Enter, not on Shift+Enter, and shows Stop while a task runs", () => {
    const { transport, el } = setup();
    transport.deliver(numbered([WELCOME]));
    const box = el.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
    box.value = "hello";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true, bubbles: true }));
    expect(transport.types()).not.toContain("user_message");
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(transport.sent.at(-1)?.event).toMatchObject({ type: "user_message", content: "hello" });
    const stop = el.querySelector<HTMLButtonElement>('button[aria-label="Stop"]')!;
    expect(stop.hidden).toBe(true);
    transport.deliver(numbered([{ type: "task_start" }], 2));
    expect(stop.hidden).toBe(false);
    stop.click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "stop" });
  });

  it("keeps Stop while an overlapping callback still runs", () => {
    const { transport, el } = setup();
    transport.deliver(numbered([WELCOME]));
    const stop = el.querySelector<HTMLButtonElement>('button[aria-label="Stop"]')!;
    // on_message starts, an action callback starts and ends while on_message still runs.
    transport.deliver(numbered([{ type: "task_start" }, { type: "task_start" }, { type: "task_end" }], 2));
    expect(stop.hidden).toBe(false);
    expect(el.querySelector(".nbc-root")?.classList.contains("nbc-running")).toBe(true);
    transport.deliver(numbered([{ type: "task_end" }], 5));
    expect(stop.hidden).toBe(true);
    expect(el.querySelector(".nbc-root")?.classList.contains("nbc-running")).toBe(false);
  });

  it("gives the text back to the composer when the message was not stored", () => {
    const { transport, el, flush } = setup();
    transport.deliver(numbered([WELCOME]));
    const box = el.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')!;
    box.value = "keep me";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(box.value).toBe("");
    transport.deliver(numbered([
      { type: "step", step: step("u1", { type: "user_message", output: "keep me" }) },
      { type: "step_delete", id: "u1" },
      { type: "error", code: "store_unavailable", message: "Your message was not stored." }], 2));
    flush();
    expect(box.value).toBe("keep me");
    expect(el.querySelector('[role="article"]')).toBeNull();
    expect(el.textContent).toContain("Your message was not stored.");
    // Another error does not bring back an old message.
    box.value = "";
    transport.deliver(numbered([{ type: "error", code: "store_unavailable", message: "again" }], 5));
    expect(box.value).toBe("");
  });

  it("asks for a resync with lastSeq when a seq is missing", () => {
    const { transport } = setup();
    transport.deliver(numbered([WELCOME, { type: "task_start" }]));
    transport.deliver(numbered([{ type: "task_end" }], 5));
    expect(transport.sent.at(-1)?.event).toEqual(
      { type: "hello", protocolVersion: 1, sessionId: "s1", lastSeq: 2 });
  });

  it("disables the composer for an action ask and answers with ask_response", () => {
    const { transport, el } = setup();
    const action = { id: "x1", name: "ok", forId: null, payload: {}, label: "OK", tooltip: "", icon: null };
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1", { output: "Pick" }) },
      { type: "ask", askId: "q1", kind: "action", stepId: "a1", timeout: 60, spec: { actions: [action] } }]));
    expect(el.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')?.disabled).toBe(true);
    [...el.querySelectorAll("button")].find((b) => b.textContent === "OK")?.click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "ask_response", askId: "q1", actionId: "x1" });
    transport.deliver(numbered([{ type: "ask_cancel", askId: "q1" }], 4));
    expect(el.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]')?.disabled).toBe(false);
  });

  it("shows starters on an empty chat, keeps them after a greeting, hides them once the user speaks", () => {
    const { transport, el } = setup();
    transport.deliver(numbered([WELCOME]));
    const root = el.querySelector<HTMLElement>(".nbc-root")!;
    const dock = el.querySelector<HTMLElement>(".nbc-starters-dock")!;
    const composer = el.querySelector<HTMLElement>(".nbc-composer")!;
    expect(dock.hidden).toBe(false);
    // empty: the centred composer with the starters under it
    expect(root.classList.contains("nbc-empty")).toBe(true);
    expect(composer.nextElementSibling).toBe(dock);
    transport.deliver(numbered([{ type: "step", step: step("a0", { output: "Hello!" }) }], 2));
    // a greeting docks the composer; the starters stay, above it (features.ipynb)
    expect(root.classList.contains("nbc-empty")).toBe(false);
    expect(dock.hidden).toBe(false);
    expect(composer.previousElementSibling).toBe(dock);
    dock.querySelector("button")?.click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "user_message", content: "hi" });
    transport.deliver(numbered([{ type: "step", step: step("u1", { type: "user_message" }) }], 3));
    expect(dock.hidden).toBe(true);
  });

  it("sends feedback with a comment and renders elements and actions", () => {
    const { transport, el } = setup();
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1", { output: "Answer" }) },
      { type: "element", element: { id: "e1", threadId: "t1", type: "dataframe", name: "df", display: "inline",
        forId: "a1", mime: null, size: null, language: null, url: null, objectKey: null,
        content: JSON.stringify({ columns: ["a"], index: [0], data: [[1]] }) } },
      { type: "action", action: { id: "x", name: "go", forId: "a1", payload: {}, label: "Go", tooltip: "", icon: null } }]));
    expect(el.querySelector('[data-id="a1"] table td')?.textContent).toBe("1");
    el.querySelector<HTMLButtonElement>('[data-id="a1"] .nbc-actions button')?.click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "action", id: "x" });
    el.querySelector<HTMLButtonElement>('button[aria-label="Helpful"]')?.click();
    const comment = el.querySelector<HTMLTextAreaElement>('textarea[aria-label="Feedback comment"]')!;
    comment.value = "great";
    [...el.querySelectorAll("button")].find((b) => b.textContent === "Submit feedback")?.click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "feedback", stepId: "a1", value: 1, comment: "great" });
  });

  it("renders every settings widget and sends settings_update", () => {
    const { transport, el } = setup();
    transport.deliver(numbered([WELCOME, { type: "settings", inputs: [
      { type: "select", id: "model", label: "Model", values: ["a", "b"], initial: "b" },
      { type: "slider", id: "temp", label: "Temperature", min: 0, max: 2, step: 0.1, initial: 1 },
      { type: "switch", id: "stream", label: "Stream", initial: true },
      { type: "textinput", id: "sys", label: "System", initial: "be nice", multiline: true },
      { type: "numberinput", id: "n", label: "N", initial: 3 },
      { type: "tags", id: "tags", label: "Tags", initial: ["x", "y"] },
      { type: "multiselect", id: "tools", label: "Tools", values: ["s", "t"], initial: ["t"] },
    ] }]));
    el.querySelector<HTMLButtonElement>('button[aria-label="Chat settings"]')?.click();
    [...el.querySelectorAll("button")].find((b) => b.textContent === "Confirm")?.click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "settings_update", settings: {
      model: "b", temp: 1, stream: true, sys: "be nice", n: 3, tags: ["x", "y"], tools: ["t"] } });
  });

  it("Cancel in the settings dialog restores the confirmed values, not the first ones", () => {
    const { transport, el } = setup();
    transport.deliver(numbered([WELCOME, { type: "settings", inputs: [
      { type: "select", id: "model", label: "Model", values: ["a", "b"], initial: "a" }] }]));
    const open = () => el.querySelector<HTMLButtonElement>('button[aria-label="Chat settings"]')?.click();
    const select = () => el.querySelector<HTMLSelectElement>('[data-setting="model"] select')!;
    const button = (text: string) => [...el.querySelectorAll("button")].find((b) => b.textContent === text)!;
    open();
    select().value = "b";
    button("Confirm").click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "settings_update", settings: { model: "b" } });
    open();
    select().value = "a"; // an edit that is cancelled
    button("Cancel").click();
    open();
    expect(select().value).toBe("b");
    // Reset shows the app's values again; only Confirm sends them
    const sent = transport.sent.length;
    button("Reset").click();
    expect(select().value).toBe("a");
    expect(transport.sent.slice(sent).map((s) => s.event.type)).not.toContain("settings_update");
    button("Confirm").click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "settings_update", settings: { model: "a" } });
    // a click on the backdrop closes the dialog
    open();
    const backdrop = el.querySelector<HTMLElement>(".nbc-settings")!;
    expect(backdrop.hidden).toBe(false);
    backdrop.click();
    expect(backdrop.hidden).toBe(true);
  });
});
