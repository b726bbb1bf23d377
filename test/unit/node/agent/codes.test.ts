import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CodeError,
  decodeInvite,
  decodeLink,
  encodeInvite,
  encodeLink,
  type InviteCode,
  type LinkCode,
} from '../../../../src/node/agent/codes';

const INVITE: InviteCode = {
  server: 'wss://sf.example:7070',
  token: '0123456789abcdef0123456789abcdef',
  fingerprint: 'ABCD-EFGH-IJKL-MNOP',
};
const LINK: LinkCode = {
  server: 'ws://127.0.0.1:7070',
  token: 'fedcba9876543210fedcba9876543210',
  user: 'a'.repeat(32),
  root: 'b'.repeat(64),
  seed: new Uint8Array(32).fill(7),
  by: 'c'.repeat(32),
  keySig: 'd'.repeat(128),
};

/** Every single-character change, deletion and insertion a person could make while copying `text`. */
function damages(text: string, from: number): string[] {
  const out: string[] = [];
  for (let i = from; i < text.length; i++) {
    const other = text[i] === 'A' ? 'B' : 'A';
    out.push(text.slice(0, i) + other + text.slice(i + 1)); // changed
    out.push(text.slice(0, i) + text.slice(i + 1)); // missing
    out.push(text.slice(0, i) + 'x' + text.slice(i)); // extra
  }
  out.push(text + 'x');
  return out.filter((d) => d !== text);
}

test('codes: an invite and a link code decode to what was encoded', () => {
  assert.deepEqual(decodeInvite(encodeInvite(INVITE)), INVITE);
  assert.deepEqual(decodeInvite(`  ${encodeInvite(INVITE)}\n`), INVITE);
  const back = decodeLink(encodeLink(LINK));
  assert.deepEqual({ ...back, seed: [...back.seed] }, { ...LINK, seed: [...LINK.seed] });
  // Still one word of the characters the extension's vscode:// links and pickers look for.
  assert.match(encodeInvite(INVITE), /^sf-invite-[A-Za-z0-9_-]+$/);
  assert.match(encodeLink(LINK), /^sf-link-[A-Za-z0-9_-]+$/);
});

test('codes: a changed, missing or extra character anywhere after the prefix says the invite code is damaged', () => {
  const text = encodeInvite(INVITE);
  const all = damages(text, 'sf-invite-'.length);
  assert.ok(all.length > 3 * 100);
  for (const damaged of all)
    assert.throws(() => decodeInvite(damaged), { name: 'CodeError', message: 'the invite code is damaged' }, damaged);
});

test('codes: damage at the start, in the middle, at the end, and a truncated code', () => {
  const text = encodeInvite(INVITE);
  const middle = Math.floor(text.length / 2);
  const cases = [
    'sf-invte-' + text.slice('sf-invite-'.length), // in the prefix
    'sf-invite-' + (text[10] === 'e' ? 'f' : 'e') + text.slice(11), // first character of the body
    text.slice(0, middle) + (text[middle] === 'Q' ? 'R' : 'Q') + text.slice(middle + 1),
    text.slice(0, -1) + (text.endsWith('z') ? 'y' : 'z'), // the checksum's last character
    text.slice(0, -1),
    text.slice(0, middle),
    'sf-invite-',
  ];
  for (const damaged of cases) assert.throws(() => decodeInvite(damaged), { message: 'the invite code is damaged' }, damaged);
});

test('codes: every single-character damage to a link code says the link code is damaged', () => {
  const text = encodeLink(LINK);
  for (const damaged of damages(text, 'sf-link-'.length).filter((_, i) => i % 7 === 0))
    assert.throws(() => decodeLink(damaged), { message: 'the link code is damaged' }, damaged);
  assert.throws(() => decodeLink(text.slice(0, -10)), { message: 'the link code is damaged' });
});

test('codes: other text is not a code, and one kind is not taken for the other', () => {
  assert.throws(() => decodeInvite('hello'), { message: 'this is not a Shared Folders invite code (it should start with sf-invite-)' });
  assert.throws(() => decodeInvite(''), CodeError);
  assert.throws(() => decodeInvite(encodeLink(LINK)), { message: 'this is a device link code, not an invite code' });
  assert.throws(() => decodeLink(encodeInvite(INVITE)), { message: 'this is an invite code, not a link code' });
});

test('codes: a code of the format before checksums is refused as damaged', () => {
  const old =
    'sf-invite-' + Buffer.from(JSON.stringify({ s: INVITE.server, t: INVITE.token, f: INVITE.fingerprint })).toString('base64url');
  assert.throws(() => decodeInvite(old), { message: 'the invite code is damaged' });
});
