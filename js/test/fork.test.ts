import { describe, expect, it } from "vitest";
import { WELCOME, numbered, step } from "./fixtures";
import { setupApp } from "./ui12-setup";

const chat = (forks: boolean) => numbered([{ ...WELCOME, forks },
  { type: "step", step: step("u1", { type: "user_message", name: "User", output: "first" }) },
  { type: "step", step: step("a1", { output: "reply one" }) }]);

describe("fork a chat at a message", () => {
  it("offers Fork on every message when the host stores chats; a click sends fork", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(chat(true));
    flush();
    const forkButtons = el.querySelectorAll<HTMLButtonElement>('button[aria-label="Fork chat from here"]');
    expect([...forkButtons].map((b) => b.hidden)).toEqual([false, false]);
    el.querySelector<HTMLButtonElement>('[data-id="a1"] button[aria-label="Fork chat from here"]')!.click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "fork", stepId: "a1" });
  });

  it("offers no Fork when the host does not store chats", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(chat(false));
    flush();
    const forkButtons = el.querySelectorAll<HTMLButtonElement>('button[aria-label="Fork chat from here"]');
    expect([...forkButtons].every((b) => b.hidden)).toBe(true);
  });
});

describe("fork in the notebook widget", () => {
  it("opens the fork in the same widget: a reset that resumes the new thread", async () => {
    const { default: widget } = await import("../src/widget");
    const sent: unknown[] = [];
    let handler: ((msg: unknown, buffers: DataView[]) => void) | null = null;
    const model = {
      send: (content: unknown) => sent.push(content),
      on: (_n: string, cb: (msg: unknown, buffers: DataView[]) => void) => { handler = cb; },
      off: () => { handler = null; },
      get: () => undefined,
    };
    const el = document.createElement("div");
    document.body.append(el);
    const cleanup = widget.render({ model, el } as unknown as Parameters<typeof widget.render>[0]);
    const push = (events: unknown[]) => (handler as ((msg: unknown, b: DataView[]) => void) | null)?.({ events }, []);
    push(numbered([{ ...WELCOME, forks: true }, { type: "step", step: step("a1", { output: "reply" }) }]));
    el.querySelector<HTMLButtonElement>('[data-id="a1"] button[aria-label="Fork chat from here"]')!.click();
    expect(sent.at(-1)).toEqual({ type: "fork", stepId: "a1" });
    sent.length = 0;
    push([{ type: "forked", seq: 3, threadId: "t-fork", fromThreadId: "t1", stepId: "a1" }]);
    await Promise.resolve();
    expect(sent).toEqual([{ host: "reset", resumeThreadId: "t-fork" },
      { type: "hello", protocolVersion: 1, resumeThreadId: "t-fork" }]);
    cleanup();
  });
});
