/** Translations (issue 16): one lookup, the locale from ui.language / the browser, the
 * app's own strings laid over the shipped ones, a switch without a rebuild, RTL, readmes. */
import { afterEach, describe, expect, it } from "vitest";
import { BUNDLED, flatten, pickLocale, setLocale, t } from "../src/ui/i18n";
import { WELCOME, numbered } from "./fixtures";
import { setupApp } from "./ui12-setup";

afterEach(() => {
  setLocale("en");
  localStorage.clear();
  document.body.replaceChildren();
});

const welcome = (config: Record<string, unknown>) => ({ ...WELCOME, config: { ...(WELCOME.config ?? {}), ...config,
  ui: { ...((WELCOME.config as Record<string, unknown> | undefined)?.ui as object ?? {}), ...(config.ui as object ?? {}) } } });

describe("lookup", () => {
  it("fills placeholders and falls back to English, then to the key", () => {
    expect(t("threadHistory.noMatch", { query: "tea" })).toBe("No chats match “tea”");
    setLocale("fr");
    expect(t("chat.input.actions.send")).toBe("Envoyer");
    setLocale("fr", { "chat.input.actions.send": "Partir" });
    expect(t("chat.input.actions.send")).toBe("Partir");
    expect(t("no.such.key")).toBe("no.such.key");
  });

  it("matches the browser's languages exactly, then by language", () => {
    expect(pickLocale(["pt-PT", "en"])).toBe("pt-BR");
    expect(pickLocale(["zh-TW"])).toBe("zh-CN");
    expect(pickLocale(["de-AT", "fr"])).toBe("de");
    expect(pickLocale(["sw"])).toBe("en");
  });

  it("every shipped locale translates every English key", () => {
    const english = [...flatten(BUNDLED.en).keys()].sort();
    for (const [tag, tree] of Object.entries(BUNDLED)) expect([...flatten(tree).keys()].sort(), tag).toEqual(english);
  });
});

describe("in the chat", () => {
  it("ui.language labels the chat, and a switch relabels it without a rebuild", () => {
    const { transport, el } = setupApp();
    transport.deliver(numbered([welcome({ ui: { language: "de" } })]));
    const box = el.querySelector<HTMLTextAreaElement>("textarea")!;
    const send = el.querySelector<HTMLButtonElement>(".nbc-send")!;
    expect(box.getAttribute("aria-label")).toBe("Nachricht");
    expect(send.getAttribute("aria-label")).toBe("Senden");
    setLocale("ja");
    expect(el.querySelector("textarea")).toBe(box); // the same element, relabelled
    expect(send.getAttribute("aria-label")).toBe("送信");
    expect(box.placeholder).toBe("ここにメッセージを入力…");
    expect(el.querySelector(".nbc-root")?.getAttribute("lang")).toBe("ja");
  });

  it("the app's own strings (Chainlit's translation file, as the server sends it) win", () => {
    const { transport, el } = setupApp();
    transport.deliver(numbered([welcome({ ui: { language: "fr" },
      translations: { fr: { "chat.input.placeholder": "Votre question ?" } } })]));
    expect(el.querySelector("textarea")?.placeholder).toBe("Votre question ?");
    expect(el.querySelector(".nbc-send")?.getAttribute("aria-label")).toBe("Envoyer");
  });

  it("a right-to-left language lays the chat out right to left", () => {
    const { transport, el } = setupApp();
    transport.deliver(numbered([welcome({ ui: { language: "ar" }, translations: { ar: { "chat.input.actions.send": "إرسال" } } })]));
    const root = el.querySelector<HTMLElement>(".nbc-root")!;
    expect(root.dir).toBe("rtl");
    expect(el.querySelector(".nbc-send")?.getAttribute("aria-label")).toBe("إرسال");
  });

  it("the empty chat shows the readme of the UI's language (chainlit_<lang>.md)", () => {
    const { transport, el } = setupApp();
    transport.deliver(numbered([welcome({ ui: { language: "es", readme: "English readme" },
      readmes: { es: "Hola, **bienvenido**" } })]));
    expect(el.querySelector(".nbc-hero-text")?.textContent).toContain("Hola, bienvenido");
  });
});
