/** `project.user_env`: the app needs values of its own from each user (an API key). They
 * are asked for once, kept in this browser's localStorage (per origin, as Chainlit does)
 * and sent as a `user_env` event when a chat says `missing_env`. */
import { h } from "./dom";
import { bind, t } from "./i18n";

const STORE = "nbchat.userEnv";

export function storedEnv(): Record<string, string> {
  try {
    const raw: unknown = JSON.parse(globalThis.localStorage?.getItem(STORE) ?? "{}");
    if (!raw || typeof raw !== "object") return {};
    return Object.fromEntries(Object.entries(raw).filter(([, v]) => typeof v === "string")) as
      Record<string, string>;
  } catch {
    return {}; // storage blocked or unreadable: ask again
  }
}

function storeEnv(env: Record<string, string>): void {
  try {
    globalThis.localStorage?.setItem(STORE, JSON.stringify({ ...storedEnv(), ...env }));
  } catch {
    // storage blocked: the values still go to this chat, they are just asked for next time
  }
}

export class UserEnvForm {
  readonly el = bind(h("form", { class: "nbc-user-env", hidden: true }), "label", "userEnv.title");

  constructor(private readonly send: (env: Record<string, string>) => void) {}

  /** The chat lacks some of `names`: send stored values, or ask for what is not stored. */
  missing(names: readonly string[]): void {
    const stored = storedEnv();
    const known = Object.fromEntries(names.filter((n) => n in stored).map((n) => [n, stored[n] ?? ""]));
    if (names.every((n) => n in known)) {
      this.send(known);
      return;
    }
    const inputs = names.map((n) => h("input", { type: "password", class: "nbc-input",
      "aria-label": n, autocomplete: "off", value: known[n] ?? "" }));
    const save = h("button", { type: "submit", class: "nbc-btn nbc-primary" }, t("userEnv.save"));
    this.el.replaceChildren(h("p", {}, t("userEnv.intro")),
      ...inputs.map((input, i) => h("label", { class: "nbc-field" }, names[i] ?? "", input)), save);
    this.el.onsubmit = (e) => {
      e.preventDefault();
      const env = Object.fromEntries(names.map((n, i) => [n, inputs[i]?.value ?? ""]).filter(([, v]) => v));
      storeEnv(env);
      this.send(env);
      this.el.hidden = true;
    };
    this.el.hidden = false;
  }
}
