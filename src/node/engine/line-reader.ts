/**
 * Splits a stream of text into lines. The part of a line still coming is kept as a list of
 * chunks, not one growing string: searching a string built by appending copies it each time, so
 * a long line sent in small chunks would cost quadratic time.
 */
export function lineReader(maxLine: number, onLine: (line: string) => void, onTooLong: () => void): (chunk: string) => void {
  let parts: string[] = [];
  let length = 0;
  let stopped = false;
  return (chunk) => {
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0 && !stopped; nl = chunk.indexOf('\n', from)) {
      const line = parts.length === 0 ? chunk.slice(from, nl) : parts.join('') + chunk.slice(from, nl);
      parts = [];
      length = 0;
      from = nl + 1;
      if (line.length > maxLine) return tooLong();
      onLine(line);
    }
    if (stopped || from === chunk.length) return;
    parts.push(chunk.slice(from));
    length += chunk.length - from;
    if (length > maxLine) tooLong();
  };
  function tooLong(): void {
    stopped = true;
    parts = [];
    onTooLong();
  }
}
