import { describe, expect, it } from "vitest";
import { LUCIDE_NAMES, lucideName, stepIcon } from "../src/ui/lucide";
import { WELCOME, numbered, step } from "./fixtures";
import { setupApp } from "./ui12-setup";

describe("step icons (Lucide names)", () => {
  it("normalises Chainlit's spellings and draws aliases with their glyph", () => {
    expect(lucideName("BookOpen")).toBe("book-open");
    expect(lucideName(" scan_search ")).toBe("scan-search");
    expect(stepIcon("Globe")?.dataset.icon).toBe("globe");
    expect(stepIcon("alert-triangle")?.querySelectorAll("path").length)
      .toBe(stepIcon("triangle-alert")?.querySelectorAll("path").length);
    expect(stepIcon("no-such-icon")).toBeNull();
    expect(stepIcon(null)).toBeNull();
    expect(LUCIDE_NAMES.length).toBeGreaterThan(60);
    for (const name of LUCIDE_NAMES) expect(stepIcon(name), name).not.toBeNull();
  });

  it("a step with a known icon shows its SVG; an unknown one keeps the type's marker", () => {
    const { transport, el, flush } = setupApp();
    transport.deliver(numbered([WELCOME,
      { type: "step", step: step("m1", { type: "assistant_message", output: "hi" }) },
      { type: "step", step: step("s1", { type: "tool", name: "Search", parentId: "m1", icon: "globe" }) },
      { type: "step", step: step("s2", { type: "tool", name: "Odd", parentId: "m1", icon: "no-such-icon" }) }]));
    flush();
    const icon = (id: string) => el.querySelector<HTMLElement>(`.nbc-step[data-id="${id}"] .nbc-step-icon`)!;
    expect(icon("s1").querySelector("svg")).not.toBeNull();
    expect(icon("s1").dataset.icon).toBe("globe");
    expect(icon("s2").querySelector("svg")).toBeNull();
    expect(icon("s2").textContent).toBe("⚙");
    // a later update to another icon redraws it
    transport.deliver(numbered([{ type: "step", step: step("s1", { type: "tool", name: "Search", parentId: "m1",
      icon: "database" }) }], 5));
    expect(icon("s1").dataset.icon).toBe("database");
  });
});
