import * as fc from 'fast-check';
import { CryptoError } from '../../../src/node/crypto/device-keys';
import { SecureSession } from '../../../src/node/crypto/secure-session';
import { concatBytes, toHex, utf8 } from '../../../src/sync/util/bytes';
import { violation, type FuzzTarget } from '../fuzz-target';
import { fuzzBytes } from '../mutate';
import { seededRandom, testDevice } from '../test-keys';

const local = testDevice('local');
const remote = testDevice('remote');
const HEAD = 49;

const remoteHellos = Array.from(
  { length: 16 },
  (_, i) => SecureSession.start(remote.keys, remote.id, local.keys, local.id, seededRandom(`hello/${i}`)).hello,
);
const helloSet = new Set(remoteHellos.map(toHex));

/** The peer holds its own key and may sign any hello: the signed text is secure-session.ts's `transcript()`. */
function resign(hello: Uint8Array): Uint8Array {
  const head = hello.subarray(0, Math.min(HEAD, hello.length));
  const transcript = concatBytes([utf8(`sf-session-hello-v1\n${remote.id}\n${local.id}\n`), head]);
  return concatBytes([head, remote.sign(transcript)]);
}

// One established pair: the peer seals frames, the fuzzer's session opens them (and their mutations).
const sender = SecureSession.start(remote.keys, remote.id, local.keys, local.id, seededRandom('sender'));
const receiver = SecureSession.start(local.keys, local.id, remote.keys, remote.id, seededRandom('receiver'));
sender.session.accept(receiver.hello);
receiver.session.accept(sender.hello);
const AAD = utf8('channel');
const frames = new Map<string, Uint8Array>();
const frameList: Uint8Array[] = [];
for (let i = 0; i < 256; i++) {
  const plaintext = seededRandom(`frame/${i}`)(i % 97);
  const frame = sender.session.seal(plaintext, AAD);
  frames.set(toHex(frame), plaintext);
  frameList.push(frame);
}
const opened = new Set<string>();

/** `resigned`: the peer signed the mutated hello itself. */
type Input =
  | { readonly kind: 'hello'; readonly bytes: Uint8Array; readonly resigned: boolean }
  | { readonly kind: 'frame'; readonly bytes: Uint8Array };

export const secureSession: FuzzTarget<Input> = {
  name: 'secure-session',
  covers: 'src/node/crypto/secure-session.ts SecureSession.accept (the peer hello) and open (every relayed frame), with a replay window',
  allowed: 'CryptoError (malformed, badSignature, badKey, decrypt, replay)',
  // Frames arrive all the time, a hello once per session (and it costs three key operations here): mostly frames.
  input: fc.oneof(
    {
      weight: 1,
      arbitrary: fuzzBytes(fc.constantFrom(...remoteHellos)).map((bytes) => ({ kind: 'hello' as const, bytes, resigned: false })),
    },
    {
      weight: 1,
      arbitrary: fuzzBytes(fc.constantFrom(...remoteHellos)).map((bytes) => ({
        kind: 'hello' as const,
        bytes: resign(bytes),
        resigned: true,
      })),
    },
    { weight: 6, arbitrary: fuzzBytes(fc.constantFrom(...frameList)).map((bytes) => ({ kind: 'frame' as const, bytes })) },
  ),
  size: (input) => input.bytes.length,
  isAllowed: (err) => err instanceof CryptoError,
  run(input) {
    if (input.kind === 'hello') {
      const { session } = SecureSession.start(local.keys, local.id, remote.keys, remote.id, seededRandom('fresh'));
      session.accept(input.bytes);
      // A peer may pick any key it signs; a stranger's change to a signed hello never passes.
      if (!input.resigned && !helloSet.has(toHex(input.bytes))) violation('a changed hello was accepted');
      return;
    }
    const plaintext = receiver.session.open(input.bytes, AAD);
    const key = toHex(input.bytes);
    const original = frames.get(key);
    if (original === undefined) violation('a frame the peer never sealed opened');
    if (toHex(original) !== toHex(plaintext)) violation('a frame opened to other bytes than were sealed');
    if (opened.has(key)) violation('a frame opened twice (replay)');
    opened.add(key);
  },
};
