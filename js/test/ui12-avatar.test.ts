import { describe, expect, it } from "vitest";
import { FrameScheduler } from "../src/frame";
import { ChatApp } from "../src/ui/app";
import { FakeTransport, WELCOME, numbered, step } from "./fixtures";

function app(avatarUrl?: (a: string) => string | null) {
  const transport = new FakeTransport();
  const el = document.createElement("div");
  document.body.append(el);
  new ChatApp(el, { transport, resolveFile: async (k) => k, avatarUrl }, { scheduler: new FrameScheduler((cb) => cb()) });
  return { transport, el };
}

describe("avatars", () => {
  it("non-user authors show the host's avatar image; without one there is no avatar (no initials)", () => {
    const { transport, el } = app((a) => `/avatars/${encodeURIComponent(a)}`);
    transport.deliver(numbered([WELCOME,
      { type: "step", step: step("u1", { type: "user_message", name: "Ada", output: "hi" }) },
      { type: "step", step: step("a1", { name: "Tool Bot", output: "hello" }) },
      { type: "step", step: step("a2", { name: "Ghost", output: "boo" }) }]));
    const avatar = (id: string) => el.querySelector<HTMLElement>(`[data-id="${id}"] .nbc-avatar`)!;
    expect(avatar("u1").querySelector("img")).toBeNull();
    expect(avatar("u1").textContent).toBe("");
    expect(avatar("a1").querySelector("img")?.getAttribute("src")).toBe("/avatars/Tool%20Bot");
    const ghost = avatar("a2").querySelector("img")!;
    ghost.dispatchEvent(new Event("error")); // the route answered 404
    expect(avatar("a2").querySelector("img")).toBeNull();
    expect(avatar("a2").textContent).toBe("");
    expect(avatar("a2").classList.contains("nbc-has-img")).toBe(false);
    // the next message by the same author does not ask again
    transport.deliver(numbered([{ type: "step", step: step("a3", { name: "Ghost", output: "again" }) }], 5));
    expect(avatar("a3").querySelector("img")).toBeNull();
  });

  it("without an avatar route (the widget) there is no avatar; the author line names other authors only", () => {
    const { transport, el } = app();
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1", { name: "Tool Bot", output: "x" }) },
      { type: "step", step: step("a2", { name: "Assistant", output: "y" }) },
      { type: "step", step: step("u1", { type: "user_message", name: "Ada", output: "z" }) }]));
    expect(el.querySelector('[data-id="a1"] .nbc-avatar')?.textContent).toBe("");
    expect(el.querySelector('[data-id="a1"] .nbc-author')?.textContent).toBe("Tool Bot");
    // the app's own name (ui.name, "Assistant" by default) and the user need no name line
    expect(el.querySelector('[data-id="a2"] .nbc-author')?.textContent).toBe("");
    expect(el.querySelector('[data-id="u1"] .nbc-author')?.textContent).toBe("");
  });
});
