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
