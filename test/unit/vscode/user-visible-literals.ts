/**
 * Finds string and template literals that reach the user without `l10n.t`: arguments of the
 * message calls, of `new TreeItem` and of `new UserFacingError`, and the values of the properties VS Code shows (a picker's
 * placeHolder and title, an input box's prompt, a row's label, a status bar item's text...).
 * A scan of the source text, not of its syntax tree: a literal stored in a variable first and
 * shown later is not seen. What it reports is a literal holding a letter outside `${…}`
 * placeholders and `$(icon)` codicons, at the top of the shown expression (ternary branches,
 * concatenations, array items), not inside a call such as `l10n.t(…)` or `name.startsWith('x')`,
 * and not compared with `===`.
 */

const SHOWN_ARGUMENTS =
  /\b(?:showInformationMessage|showWarningMessage|showErrorMessage|showQuickPick|new\s+(?:vscode\.)?TreeItem|new\s+UserFacingError)\s*\(/g;
const SHOWN_PROPERTIES = /(?:^|[{,\s.])(placeHolder|placeholder|prompt|title|label|description|detail|tooltip|text)\s*(?::|=(?!=))/g;

export interface Escape {
  readonly line: number;
  readonly literal: string;
}

export function userVisibleLiterals(source: string): Escape[] {
  const code = withoutComments(source);
  // The calls and properties are looked for outside literals: a message's words are not code.
  const masked = withoutLiterals(code);
  const found = new Map<number, Escape>();
  const report = (start: number, end: number): void => {
    const literal = code.slice(start, end);
    if (!hasWords(code, start, end)) return;
    found.set(start, { line: code.slice(0, start).split('\n').length, literal });
  };
  for (const m of masked.matchAll(SHOWN_ARGUMENTS)) {
    let i = m.index + m[0].length;
    for (;;) {
      const end = expressionEnd(code, i);
      literalsOf(code, i, end, report);
      if (code[end] !== ',') break;
      i = end + 1;
    }
  }
  for (const m of masked.matchAll(SHOWN_PROPERTIES)) {
    const start = m.index + m[0].length;
    // A variable is not shown by being named `text`; where it is shown, its value is an identifier.
    if (/\b(?:const|let|var)\s+\w+\s*=$/.test(masked.slice(Math.max(0, start - 40), start))) continue;
    literalsOf(code, start, expressionEnd(code, start), report);
  }
  return [...found.entries()].sort(([a], [b]) => a - b).map(([, e]) => e);
}

/** A letter in the literal `code[start, end)` outside placeholders, escapes and codicons: words someone reads. */
function hasWords(code: string, start: number, end: number): boolean {
  let text = '';
  let from = start + 1;
  if (code[start] === '`') {
    forPlaceholders(code, start, end, (a, b) => {
      text += `${code.slice(from, a - 2)} `;
      from = b + 1;
    });
  }
  text += code.slice(from, end - 1);
  return /\p{L}/u.test(text.replace(/\\(?:u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, ' ').replace(/\$\([\w~-]+\)/g, ' '));
}

/** `code` with every literal's content blanked out, quotes kept. */
function withoutLiterals(code: string): string {
  let out = '';
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const stop = literalEnd(code, i);
      out += c + code.slice(i + 1, stop - 1).replace(/[^\n]/g, ' ') + code[stop - 1];
      i = stop - 1;
    } else {
      out += c;
    }
  }
  return out;
}

/** The source with comments blanked out (lines kept), so their words and quotes do not count. */
function withoutComments(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '/' && source[i + 1] === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && source[i + 1] === '*') {
      const stop = source.indexOf('*/', i + 2) + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      const stop = literalEnd(source, i);
      out += source.slice(i, stop);
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The index just past the string or template literal that starts at `i`. */
function literalEnd(code: string, i: number): number {
  const quote = code[i];
  let j = i + 1;
  while (j < code.length && code[j] !== quote) {
    if (code[j] === '\\') j += 2;
    else if (quote === '`' && code[j] === '$' && code[j + 1] === '{') j = closing(code, j + 1) + 1;
    else j++;
  }
  return j + 1;
}

/** The index of the bracket that closes the one at `i`. */
function closing(code: string, i: number): number {
  let depth = 0;
  for (let j = i; j < code.length; j++) {
    const c = code[j]!;
    if (c === "'" || c === '"' || c === '`') j = literalEnd(code, j) - 1;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c) && --depth === 0) return j;
  }
  return code.length;
}

/** Where the expression starting at `i` ends: the first `,` `;` or unmatched closing bracket at its level. */
function expressionEnd(code: string, i: number): number {
  for (let j = i; j < code.length; j++) {
    const c = code[j]!;
    if (c === "'" || c === '"' || c === '`') j = literalEnd(code, j) - 1;
    else if ('([{'.includes(c)) j = closing(code, j);
    else if (',;)]}'.includes(c)) return j;
  }
  return code.length;
}

/**
 * Reports the literals at the top of `code[start, end)`: grouping parentheses and array brackets
 * are looked into, template placeholders too; calls, indexing and object literals are not (an
 * object's shown properties are found on their own).
 */
function literalsOf(code: string, start: number, end: number, report: (start: number, end: number) => void): void {
  for (let j = start; j < end; j++) {
    const c = code[j]!;
    if (c === "'" || c === '"' || c === '`') {
      const stop = literalEnd(code, j);
      if (!compared(code, j, stop)) report(j, stop);
      if (c === '`') forPlaceholders(code, j, stop, (a, b) => literalsOf(code, a, b, report));
      j = stop - 1;
    } else if (c === '(' || c === '[') {
      const close = closing(code, j);
      const before = code.slice(start, j).trimEnd();
      const isCallOrIndex = /[\w$)\]>?]$/.test(before) && !/(?:^|[^\w$])(?:return|typeof|in|of)$/.test(before);
      if (!isCallOrIndex) literalsOf(code, j + 1, close, report);
      j = close;
    } else if (c === '{') {
      j = closing(code, j);
    }
  }
}

function forPlaceholders(code: string, start: number, stop: number, each: (from: number, to: number) => void): void {
  for (let j = start + 1; j < stop - 1; j++) {
    if (code[j] === '\\') j++;
    else if (code[j] === '$' && code[j + 1] === '{') {
      const close = closing(code, j + 1);
      each(j + 2, close);
      j = close;
    }
  }
}

function compared(code: string, start: number, stop: number): boolean {
  return /[=!]==?\s*$/.test(code.slice(Math.max(0, start - 5), start)) || /^\s*[=!]==?/.test(code.slice(stop, stop + 5));
}
