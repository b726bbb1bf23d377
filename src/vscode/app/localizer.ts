/**
 * The one seam between view models and `vscode.l10n`: view models take a `Localizer` so they stay
 * free of the `vscode` module (unit tests run them in plain Node) while every string they produce
 * still goes through `l10n.t` at run time. Placeholders are `{0}`, `{1}`, as in `vscode.l10n.t`.
 */
export interface Localizer {
  t(message: string, ...args: Array<string | number | boolean>): string;
}

/** The English fallback `vscode.l10n.t` uses when no bundle is loaded; tests use it too. */
export const englishLocalizer: Localizer = {
  t: (message, ...args) =>
    message.replace(/\{(\d+)\}/g, (whole, index: string) => {
      const value = args[Number(index)];
      return value === undefined ? whole : String(value);
    }),
};
