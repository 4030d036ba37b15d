/**
 * What the chat looks like and speaks, from the welcome config: light or dark with the
 * app's `ui.theme` tokens (theme.ts), and the locale with the app's own strings (i18n.ts).
 * A change of either applies at once to the chat root: no reload.
 */
import type { ChatState } from "../store/state";
import { configValue } from "../store/state";
import { chooseLocale, currentLocale, isRtl, onLocaleChange, relabel, setLocale, t } from "./i18n";
import { type SchemeChoice, SchemeWatcher, type ThemeSpec, themeDefault } from "./theme";

export class Appearance {
  readonly scheme: SchemeWatcher;
  private readonly offLocale: () => void;

  /** `choice`: the page's (its toggle); the widget's default is the app's
   * `ui.theme.default`, else JupyterLab's theme or the OS's. `onLocale` re-renders text
   * that is not bound (the readme). */
  constructor(private readonly root: HTMLElement, state: () => ChatState, choice: (() => SchemeChoice) | undefined,
    private readonly onLocale: () => void) {
    this.scheme = new SchemeWatcher(root.ownerDocument, choice ??
      (() => themeDefault(configValue(state(), "ui.theme") as ThemeSpec | undefined)));
    this.scheme.add(root);
    this.offLocale = onLocaleChange(() => this.showLocale());
    this.showLocale();
  }

  /** The welcome arrived: the app's theme, language and strings. */
  apply(state: ChatState): void {
    this.scheme.setTheme((configValue(state, "ui.theme") as ThemeSpec | undefined) ?? null);
    const own = (configValue(state, "translations") ?? {}) as Record<string, unknown>;
    const language = configValue(state, "ui.language");
    const tag = chooseLocale(typeof language === "string" ? language : "", Object.keys(own));
    setLocale(tag, own[tag]);
  }

  private showLocale(): void {
    const tag = currentLocale();
    relabel(this.root);
    this.root.lang = tag;
    this.root.dir = isRtl(tag) ? "rtl" : "ltr";
    this.root.dataset.reconnecting = t("common.status.reconnecting");
    this.onLocale();
  }

  dispose(): void {
    this.offLocale();
    this.scheme.dispose();
  }
}
