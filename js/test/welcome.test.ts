import { describe, expect, it } from "vitest";
import type { ClientEvent, Welcome } from "../src/protocol";
import { type ChatState, initialState } from "../src/store/state";
import { cotClass, profileOptions, starterButtons, uploadSpec } from "../src/ui/welcome";
import { WELCOME } from "./fixtures";

function withWelcome(patch: Partial<Welcome>): ChatState {
  return { ...initialState(), welcome: { seq: 1, ...WELCOME, ...patch } as Welcome };
}

describe("welcome builders", () => {
  it("takes the chain-of-thought mode from ui.cot and falls back to full", () => {
    expect(cotClass(withWelcome({ config: { ui: { cot: "hidden" } } }))).toBe("nbc-cot-hidden");
    expect(cotClass(withWelcome({ config: { ui: { cot: "bogus" } } }))).toBe("nbc-cot-full");
    expect(cotClass(initialState())).toBe("nbc-cot-full");
  });

  it("offers spontaneous uploads only when the config enables them", () => {
    expect(uploadSpec(withWelcome({}))).toEqual({ accept: undefined, maxFiles: 2, maxSizeMb: undefined });
    expect(uploadSpec(withWelcome({ config: { features: { spontaneous_file_upload: { enabled: false } } } })))
      .toBeNull();
    expect(uploadSpec(initialState())).toBeNull();
  });

  it("lists the chat profiles with the current one selected", () => {
    const state = withWelcome({ chatProfiles: [{ name: "A" }, { name: "B", markdown_description: "bee" }],
      chatProfile: "B" });
    const options = profileOptions(state);
    expect(options.map((o) => [o.value, o.selected, o.title])).toEqual([["A", false, ""], ["B", true, "bee"]]);
    expect(profileOptions(initialState())).toEqual([]);
  });

  it("makes a starter button that sends its message and command as the user's", () => {
    const sent: ClientEvent[] = [];
    const [button, ...rest] = starterButtons(
      withWelcome({ starters: [{ label: "Plan", message: "plan my day", command: "todo" }] }),
      (ev) => sent.push(ev));
    expect(rest).toEqual([]);
    expect(button?.textContent).toBe("Plan");
    button?.click();
    expect(sent).toMatchObject([{ type: "user_message", content: "plan my day", command: "todo" }]);
  });
});
