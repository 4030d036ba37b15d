/**
 * What a chat offers before its first message, from the `welcome` event and its config:
 * the chain-of-thought mode, the chat profiles to pick from, the starters and the
 * composer's upload spec. Builders only: ChatApp owns the elements they fill.
 */
import type { ClientEvent } from "../protocol";
import * as act from "../store/actions";
import { type ChatState, configValue } from "../store/state";
import { h } from "./dom";
import type { UploadSpec } from "./upload";

/** The root's chain-of-thought class, from `ui.cot` (full, tool_call or hidden). */
export function cotClass(state: ChatState): string {
  const cot = String(configValue(state, "ui.cot") ?? "full");
  return `nbc-cot-${["full", "tool_call", "hidden"].includes(cot) ? cot : "full"}`;
}

/** The composer's spontaneous-upload spec, or null when the config turns it off. */
export function uploadSpec(state: ChatState): UploadSpec | null {
  const up = configValue(state, "features.spontaneous_file_upload") as Record<string, unknown> | undefined;
  return up && up.enabled ? {
    accept: (up.accept as UploadSpec["accept"]) ?? undefined,
    maxFiles: typeof up.max_files === "number" ? up.max_files : undefined,
    maxSizeMb: typeof up.max_size_mb === "number" ? up.max_size_mb : undefined,
  } : null;
}

/** One `<option>` per chat profile, the current one selected. */
export function profileOptions(state: ChatState): HTMLOptionElement[] {
  const welcome = state.welcome;
  return (welcome?.chatProfiles ?? []).map((p) => {
    const pname = String(p.name ?? "");
    return h("option", { value: pname, selected: pname === welcome?.chatProfile,
      title: typeof p.markdown_description === "string" ? p.markdown_description : null }, pname);
  });
}

/** One button per starter; a click sends its message (and command) as the user's. */
export function starterButtons(state: ChatState, send: (event: ClientEvent) => void): HTMLButtonElement[] {
  return (state.welcome?.starters ?? []).map((s) => {
    const label = String(s.label ?? s.message ?? "");
    const btn = h("button", { type: "button", class: "nbc-starter", role: "listitem" }, label);
    btn.addEventListener("click", () => send(act.userMessage(String(s.message ?? label),
      { command: typeof s.command === "string" ? s.command : undefined })));
    return btn;
  });
}
