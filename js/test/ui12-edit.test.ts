import { describe, expect, it } from "vitest";
import { WELCOME, numbered, step } from "./fixtures";
import { setupApp } from "./ui12-setup";

const chat = () => numbered([WELCOME,
  { type: "step", step: step("u1", { type: "user_message", name: "User", output: "first" }) },
  { type: "step", step: step("a1", { output: "reply one" }) },
  { type: "step", step: step("u2", { type: "user_message", name: "User", output: "second" }) },
  { type: "step", step: step("a2", { output: "reply two" }) }]);

describe("edit a user message", () => {
  it("opens an inline editor; Confirm sends edit_message with the new text, Cancel sends nothing", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(chat());
    flush();
    const edit = el.querySelector<HTMLButtonElement>('[data-id="u1"] button[aria-label="Edit message"]')!;
    expect(edit.hidden).toBe(false);
    edit.click();
    const box = el.querySelector<HTMLTextAreaElement>('[data-id="u1"] textarea[aria-label="Edit message"]')!;
    expect(box.value).toBe("first");
    box.value = "first, edited";
    const buttons = [...el.querySelectorAll<HTMLButtonElement>('[data-id="u1"] .nbc-edit button')];
    buttons.find((b) => b.textContent === "Confirm")!.click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "edit_message", id: "u1", content: "first, edited" });
    expect(el.querySelector('[data-id="u1"] .nbc-edit')).toBeNull();
    const count = transport.sent.length;
    edit.click();
    [...el.querySelectorAll<HTMLButtonElement>('[data-id="u1"] .nbc-edit button')].find((b) => b.textContent === "Cancel")!.click();
    expect(transport.sent.length).toBe(count);
  });

  it("no edit button with features.edit_message off", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([{ ...WELCOME, config: { ...WELCOME.config, features: { edit_message: false } } },
      { type: "step", step: step("u1", { type: "user_message", output: "x" }) }]));
    flush();
    expect(el.querySelector<HTMLButtonElement>('[data-id="u1"] button[aria-label="Edit message"]')?.hidden).toBe(true);
  });
});

describe("retry the last reply", () => {
  it("shows only on the last reply and re-sends its user message as an edit", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(chat());
    flush();
    expect(el.querySelector<HTMLButtonElement>('[data-id="a1"] button[aria-label="Retry"]')?.hidden).toBe(true);
    const retry = el.querySelector<HTMLButtonElement>('[data-id="a2"] button[aria-label="Retry"]')!;
    expect(retry.hidden).toBe(false);
    retry.click();
    expect(transport.sent.at(-1)?.event).toEqual({ type: "edit_message", id: "u2", content: "second" });
    // while a task runs there is nothing to retry
    transport.deliver(numbered([{ type: "task_start" }], 6));
    expect(retry.hidden).toBe(true);
  });
});
