/**
 * `text` with its control characters (line breaks, escape codes) written as `\uXXXX`: a name or
 * message from someone else printed in a log or terminal stays on its line and cannot colour,
 * clear or forge the lines around it.
 */
export function printable(text: string): string {
  // Control characters are exactly what this matches.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
