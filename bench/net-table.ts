/** One line of bench:net's table: a figure, ours, the peer tool's, their ratio and the goal. */
export interface Row {
  readonly figure: string;
  readonly ours: string;
  readonly peer: string;
  readonly ratio: string;
  readonly goal: string;
}

const COLUMNS: readonly (keyof Row)[] = ['figure', 'ours', 'peer', 'ratio', 'goal'];

/** The rows as a Markdown table, columns padded to line up in a terminal too. */
export function tableText(rows: readonly Row[]): string {
  const widths = COLUMNS.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(COLUMNS.map((c) => r[c])))].join('\n');
}

/** a / b to two places, or "n/a" when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? 'n/a' : (a / b).toFixed(2);
}
