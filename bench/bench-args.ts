/** `--name VALUE` from the command line, or `fallback`. */
export function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

/** `--name N` as a number; a value that is not one is an error, not a NaN run. */
export function numberOption(name: string, fallback: number): number {
  const text = option(name, String(fallback));
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`--${name} wants a number, not ${JSON.stringify(text)}`);
  return value;
}
