/**
 * Where lines start in a `\n` text, so offsets can move between the shared text and a document
 * that shows each break as `\r\n` (one unit longer). Kept up to date edit by edit, so a keystroke
 * costs a binary search and a shift of the line table, not a scan of the whole text.
 */
export class LineStarts {
  /** `starts[k]` is the offset just after the k-th `\n`; `starts[0]` is 0. */
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** How many line breaks come before `offset` in the `\n` text. */
  breaksBefore(offset: number): number {
    return this.upperBound(offset) - 1;
  }

  /** The document offset of a `\n`-text offset, when each break is `\r\n`. */
  toCrlf(offset: number): number {
    return offset + this.breaksBefore(offset);
  }

  /**
   * The `\n`-text offset of a `\r\n`-document offset. An offset between `\r` and `\n` (no editor
   * makes one) maps to before the break.
   */
  fromCrlf(offset: number): number {
    // The last line whose start, in document units (starts[k] + k), is at or before the offset.
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! + mid <= offset) lo = mid;
      else hi = mid - 1;
    }
    const text = offset - lo;
    const nextStart = this.starts[lo + 1];
    return nextStart !== undefined && text > nextStart - 1 ? nextStart - 1 : text;
  }

  /** Records that `deleteCount` units at `offset` of the `\n` text were replaced by `inserted`. */
  splice(offset: number, deleteCount: number, inserted: string): void {
    const from = this.upperBound(offset);
    const to = this.upperBound(offset + deleteCount);
    const added: number[] = [];
    for (let i = inserted.indexOf('\n'); i >= 0; i = inserted.indexOf('\n', i + 1)) added.push(offset + i + 1);
    // Rebuilt from `from` on, without spreading `added` into a call: a paste may hold more lines
    // than a call takes arguments.
    const tail = this.starts.splice(from);
    const shift = inserted.length - deleteCount;
    for (const start of added) this.starts.push(start);
    for (let k = to - from; k < tail.length; k++) this.starts.push(tail[k]! + shift);
  }

  /** The first index whose start is after `offset`. */
  private upperBound(offset: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
