import * as crypto from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import * as fc from 'fast-check';
import { CodeError, decodeInvite, decodeLink, encodeInvite, encodeLink } from '../../../src/node/agent/codes';
import { violation, type FuzzTarget } from '../fuzz-target';
import { hexArb } from '../hex-arbitrary';
import { fuzzBytes } from '../mutate';

const server = fc.constantFrom('ws://127.0.0.1:7070', 'wss://example.org', 'wss://a.b:443/path');
const invite = fc.record({ server, token: hexArb(16), fingerprint: fc.constantFrom('ABCD-EFGH-IJKL-MNOP', '') }).map(encodeInvite);
const link = fc
  .record({
    server,
    token: hexArb(16),
    user: hexArb(16),
    root: hexArb(32),
    seed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    by: hexArb(16),
    keySig: hexArb(64),
  })
  .map(encodeLink);

/** codes.ts's checksum, so that a mutated body still passes it and the JSON inside gets parsed. */
function rechecked(code: string): string {
  const body = code.slice(0, -8);
  return body + crypto.createHash('sha256').update(`sf-code-v2\n${body}`).digest('base64url').slice(0, 8);
}

const ascii = new TextEncoder();
const text = new TextDecoder();
const mutatedCode = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fuzzBytes(
    valid.map((c) => ascii.encode(c)),
    200,
  ).map((b) => text.decode(b));

export const codes: FuzzTarget<string> = {
  name: 'codes',
  covers: 'src/node/agent/codes.ts decodeInvite and decodeLink (codes pasted by people)',
  allowed: 'CodeError',
  input: fc.oneof(
    { weight: 1, arbitrary: mutatedCode(fc.oneof(invite, link)) },
    { weight: 1, arbitrary: mutatedCode(fc.oneof(invite, link)).map(rechecked) },
  ),
  size: (code) => code.length * 3,
  isAllowed: (err) => err instanceof CodeError,
  run(code) {
    let decodedAny = false;
    let refusal: unknown;
    try {
      const i = decodeInvite(code);
      decodedAny = true;
      if (!isDeepStrictEqual(decodeInvite(encodeInvite(i)), i)) violation('an invite does not decode back to itself');
    } catch (err) {
      if (!(err instanceof CodeError)) throw err;
      refusal = err;
    }
    try {
      const l = decodeLink(code);
      decodedAny = true;
      if (!isDeepStrictEqual(decodeLink(encodeLink(l)), l)) violation('a link does not decode back to itself');
    } catch (err) {
      if (!(err instanceof CodeError)) throw err;
      refusal = err;
    }
    if (!decodedAny) throw refusal;
  },
};
