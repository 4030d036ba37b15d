import { describe, expect, it } from "vitest";
import { WELCOME, numbered, step } from "./fixtures";
import { setupApp } from "./ui12-setup";

describe("non-string step input/output (old stored threads)", () => {
  it("renders a dict input and output as JSON, the body is not blank", () => {
    const { transport, el, flush } = setupApp();
    const input = { query: "cats", limit: 3 } as unknown as string;
    const output = [{ title: "Cat" }] as unknown as string;
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1") },
      { type: "step", step: step("t1", { type: "tool", name: "search", parentId: "a1", input, output,
        showInput: "python", defaultOpen: true, end: "2024-01-01T10:00:01Z" }) }]));
    flush();
    const body = el.querySelector('[data-id="t1"] .nbc-step-body')!;
    expect(body.querySelector(".nbc-step-input code")?.textContent).toContain('"query": "cats"');
    expect(body.querySelector(".nbc-step-output code")?.textContent).toContain('"title": "Cat"');
    expect(body.querySelector(".nbc-error-text")).toBeNull();
  });

  it("a message whose content is a dict shows as a JSON code block", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME,
      { type: "step", step: step("a1", { output: { answer: 42 } as unknown as string }) }]));
    flush();
    const code = el.querySelector('[data-id="a1"] .nbc-msg-body pre code');
    expect(code?.textContent).toContain('"answer": 42');
  });

  it("a renderer that throws shows an error and leaves the output", () => {
    const { transport, el, flush } = setupApp();
    // A getter that throws stands in for any input the renderer cannot handle.
    const bad = { toJSON() { throw new Error("boom"); } } as unknown as string;
    transport.deliver(numbered([WELCOME, { type: "step", step: step("a1") },
      { type: "step", step: step("t1", { type: "tool", parentId: "a1", input: bad, output: "still here",
        showInput: true, defaultOpen: true }) }]));
    flush();
    expect(el.querySelector('[data-id="t1"] .nbc-step-output')?.textContent).toContain("still here");
  });
});
