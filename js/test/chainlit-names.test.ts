import { describe, expect, it } from "vitest";
import { ModePicker } from "../src/ui/modes";
import { SettingsPanel, settingField } from "../src/ui/settings";
import { WELCOME, mountApp, numbered, step } from "./fixtures";

const setup = mountApp;

const MODEL = { id: "model", name: "Model", options: [
  { id: "fast", name: "Fast" }, { id: "smart", name: "Smart", default: true }] };

describe("mode pickers", () => {
  it("show the default option and keep a choice the new modes still offer", () => {
    const picker = new ModePicker();
    expect(picker.el.hidden).toBe(true);
    picker.set([MODEL]);
    expect(picker.el.hidden).toBe(false);
    expect(picker.chosen()).toEqual({ model: "smart" });
    picker.el.querySelector("select")!.value = "fast";
    picker.set([MODEL]);
    expect(picker.chosen()).toEqual({ model: "fast" });
    picker.set([{ ...MODEL, options: [{ id: "other", name: "Other" }] }]);
    expect(picker.chosen()).toEqual({ model: "other" });
    picker.set([]);
    expect(picker.el.hidden).toBe(true);
  });

  it("send the chosen modes with each message", () => {
    const { transport, el } = setup();
    transport.deliver(numbered([WELCOME, { type: "modes", modes: [MODEL] }]));
    const select = el.querySelector<HTMLSelectElement>('select[aria-label="Model"]')!;
    select.value = "fast";
    const box = el.querySelector<HTMLTextAreaElement>("textarea")!;
    box.value = "hi";
    el.querySelector<HTMLFormElement>(".nbc-composer")!.requestSubmit();
    expect(transport.sent.at(-1)?.event).toMatchObject(
      { type: "user_message", content: "hi", modes: { model: "fast" } });
  });
});

describe("starter categories", () => {
  it("show one button per category; a category's starter sends its message", () => {
    const { transport, el, flush } = setup();
    transport.deliver(numbered([{ ...WELCOME, starterCategories: [
      { label: "Query", starters: [{ label: "Machines", message: "list machines" }] },
      { label: "Ingest", starters: [{ label: "Upload", message: "upload", command: "up" }] }] }]));
    flush();
    const group = el.querySelector('[aria-label="Starter categories"]')!;
    const tabs = [...group.querySelectorAll("button")];
    expect(tabs.map((b) => b.textContent)).toEqual(["Query", "Ingest"]);
    expect(el.textContent).not.toContain("Say hi"); // grouped starters replace the flat ones
    tabs[1]!.click();
    expect(tabs[1]!.getAttribute("aria-pressed")).toBe("true");
    const starter = [...el.querySelectorAll<HTMLButtonElement>('[role="listitem"]')];
    expect(starter.map((b) => b.textContent)).toEqual(["Upload"]);
    starter[0]!.click();
    expect(transport.sent.at(-1)?.event).toMatchObject(
      { type: "user_message", content: "upload", command: "up" });
  });
});

describe("settings widgets", () => {
  it("checkbox, radio and date fields give back their values", () => {
    const check = settingField({ id: "v", label: "Verbose", type: "checkbox", initial: true });
    expect(check.el.querySelector("input")?.getAttribute("role")).toBeNull();
    expect(check.get()).toBe(true);
    const radio = settingField({ id: "t", label: "Tone", type: "radio",
      items: { Dry: "dry", Warm: "warm" }, initial: "dry" });
    expect(radio.get()).toBe("dry");
    radio.el.querySelector<HTMLInputElement>('input[value="warm"]')!.checked = true;
    expect(radio.get()).toBe("warm");
    const date = settingField({ id: "d", label: "Since", type: "datepicker", initial: "2026-01-02" });
    expect(date.get()).toBe("2026-01-02");
    const range = settingField({ id: "r", label: "Span", type: "datepicker", mode: "range",
      initial: ["2026-01-01", "2026-01-31"] });
    expect(range.get()).toEqual(["2026-01-01", "2026-01-31"]);
    range.el.querySelectorAll("input")[1]!.value = "";
    expect(range.get()).toBeNull();
  });

  it("a tab's inputs are top-level settings, and edits go out before Save", () => {
    const edits: Record<string, unknown>[] = [];
    const saved: Record<string, unknown>[] = [];
    const panel = new SettingsPanel((v) => saved.push(v), (v) => edits.push(v));
    panel.setInputs([{ id: "m", label: "Model", type: "select", values: ["a", "b"], initial: "a" },
      { id: "adv", label: "Advanced", type: "tab", inputs: [
        { id: "v", label: "Verbose", type: "checkbox", initial: false }] }]);
    expect(panel.el.querySelector("fieldset legend")?.textContent).toBe("Advanced");
    const box = panel.el.querySelector<HTMLInputElement>('input[type="checkbox"]')!;
    box.checked = true;
    box.dispatchEvent(new Event("change", { bubbles: true }));
    expect(edits).toEqual([{ m: "a", v: true }]);
    expect(saved).toEqual([]);
  });
});

describe("auto-collapsing steps", () => {
  it("fold when they end", () => {
    const { transport, el, flush } = setup();
    transport.deliver(numbered([WELCOME, { type: "step", step: step("s1", { type: "tool",
      name: "look", defaultOpen: true, autoCollapse: true, start: "2026-01-01T00:00:00Z" }) }]));
    flush();
    const head = el.querySelector(".nbc-step-head")!;
    expect(head.getAttribute("aria-expanded")).toBe("true");
    transport.deliver(numbered([{ type: "step", step: step("s1", { type: "tool", name: "look",
      defaultOpen: true, autoCollapse: true, start: "2026-01-01T00:00:00Z",
      end: "2026-01-01T00:00:01Z" }) }], 3));
    flush();
    expect(head.getAttribute("aria-expanded")).toBe("false");
  });
});

describe("user_env", () => {
  const welcome = { ...WELCOME, config: { ...WELCOME.config, project: { user_env: ["API_KEY"] } } };
  const missing = { type: "error", code: "missing_env", message: "this app needs values for: API_KEY" };

  it("asks for missing values, stores them, and sends them without asking next time", () => {
    localStorage.clear();
    const first = setup();
    first.transport.deliver(numbered([welcome, missing]));
    const form = first.el.querySelector<HTMLFormElement>('form[aria-label="Your keys"]')!;
    expect(form.hidden).toBe(false);
    form.querySelector<HTMLInputElement>('input[aria-label="API_KEY"]')!.value = "sk-1";
    form.requestSubmit();
    expect(first.transport.sent.at(-1)?.event).toEqual({ type: "user_env", env: { API_KEY: "sk-1" } });
    expect(form.hidden).toBe(true);
    const second = setup();
    second.transport.deliver(numbered([welcome, missing]));
    expect(second.transport.sent.at(-1)?.event).toEqual({ type: "user_env", env: { API_KEY: "sk-1" } });
    expect(second.el.querySelector<HTMLFormElement>('form[aria-label="Your keys"]')!.hidden).toBe(true);
  });
});

describe("chat profiles", () => {
  it("show their display_name, and switch by name", () => {
    const { transport, el } = setup();
    transport.deliver(numbered([{ ...WELCOME, chatProfile: "fast", chatProfiles: [
      { name: "fast", display_name: "Fast model" }, { name: "smart", display_name: null }] }]));
    const options = [...el.querySelectorAll<HTMLOptionElement>('select[aria-label="Chat profile"] option')];
    expect(options.map((o) => [o.value, o.textContent])).toEqual([["fast", "Fast model"], ["smart", "smart"]]);
  });
});
