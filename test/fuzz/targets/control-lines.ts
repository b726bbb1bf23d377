import * as fc from 'fast-check';
import { isRequest } from '../../../src/node/engine/engine-dispatch';
import { lineReader } from '../../../src/node/engine/line-reader';
import { violation, type FuzzTarget } from '../fuzz-target';

/** Small, so that lines over the limit are common; the reader's logic does not depend on the size. */
const MAX_LINE = 64;

const line = fc.oneof(
  fc.constantFrom('{"kind":"request","id":1,"method":"status"}', '{"kind":"request","id":"1"}', '', ' ', 'not json', '{}', 'null'),
  fc.string({ maxLength: 90 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** A stream of lines cut into chunks at arbitrary places, as a socket delivers them. */
const chunked = fc
  .tuple(fc.array(line, { maxLength: 8 }), fc.boolean(), fc.array(fc.nat({ max: 200 }), { maxLength: 8 }))
  .map(([lines, endsInNewline, cuts]) => {
    const text = lines.join('\n') + (endsInNewline ? '\n' : '');
    const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
    const chunks: string[] = [];
    let from = 0;
    for (const c of [...at, text.length]) {
      chunks.push(text.slice(from, c));
      from = c;
    }
    return chunks;
  });

export const controlLines: FuzzTarget<string[]> = {
  name: 'control-lines',
  covers:
    'src/node/engine/line-reader.ts lineReader (both ends of the control socket) and control-server.ts JSON.parse + isRequest on each line',
  allowed: 'none: a bad line closes the socket (onTooLong), unparsable JSON is caught by the server',
  input: chunked,
  size: (chunks) => chunks.reduce((n, c) => n + c.length * 2, 0),
  isAllowed: () => false,
  run(chunks) {
    const seen: string[] = [];
    let tooLong = 0;
    const feed = lineReader(
      MAX_LINE,
      (l) => {
        seen.push(l);
        try {
          isRequest(JSON.parse(l));
        } catch (err) {
          if (!(err instanceof SyntaxError)) throw err;
        }
      },
      () => tooLong++,
    );
    for (const c of chunks) feed(c);
    // The model: every complete line in order, up to the first line over the limit (complete or still coming).
    const parts = chunks.join('').split('\n');
    const complete = parts.slice(0, -1);
    const firstLong = complete.findIndex((l) => l.length > MAX_LINE);
    const expected = firstLong < 0 ? complete : complete.slice(0, firstLong);
    const expectTooLong = firstLong >= 0 || parts[parts.length - 1]!.length > MAX_LINE;
    if (seen.length !== expected.length || seen.some((l, i) => l !== expected[i]))
      violation(`lines ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`);
    if (tooLong !== (expectTooLong ? 1 : 0)) violation(`onTooLong called ${tooLong} times, expected ${expectTooLong ? 1 : 0}`);
  },
};
