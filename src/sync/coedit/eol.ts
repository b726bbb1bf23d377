/** The shared text always holds `\n`; a document shows it with one of these. */
export type Eol = '\n' | '\r\n';

/** Every line break (`\r\n`, a lone `\r` or `\n`) as `\n`. */
export function normaliseEol(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

export function withEol(normalised: string, eol: Eol): string {
  return eol === '\n' ? normalised : normalised.replace(/\n/g, eol);
}

/**
 * The line break a text mostly uses, by the rule VS Code applies when it opens a file (breaks with
 * a `\r` win when they are more than half), so the shared choice matches what editors show.
 */
export function detectEol(text: string): Eol {
  let lf = 0;
  let withCr = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13) {
      withCr++;
      if (text.charCodeAt(i + 1) === 10) i++;
    } else if (c === 10) {
      lf++;
    }
  }
  return withCr > (lf + withCr) / 2 ? '\r\n' : '\n';
}
