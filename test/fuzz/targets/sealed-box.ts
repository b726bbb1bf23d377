import * as fc from 'fast-check';
import { CryptoError } from '../../../src/node/crypto/device-keys';
import { openSealed, sealFor } from '../../../src/node/crypto/sealed-box';
import { concatBytes, toHex, utf8 } from '../../../src/sync/util/bytes';
import { violation, type FuzzTarget } from '../fuzz-target';
import { fuzzBytes } from '../mutate';
import { seededRandom, testDevice } from '../test-keys';

const SIGNATURE = 64;
const sender = testDevice('sender');
const recipient = testDevice('recipient');

/** Sealing costs a key agreement or three; a pool of valid boxes keeps generation cheap, the mutations vary them. */
const pool = new Map<string, Uint8Array>();
const boxes: Uint8Array[] = [];
for (let i = 0; i < 48; i++) {
  const plaintext = seededRandom(`plain/${i}`)(i === 0 ? 0 : (i * 37) % 300);
  const box = sealFor(sender.keys, sender.id, recipient.keys, recipient.id, plaintext, seededRandom(`box/${i}`));
  pool.set(toHex(box.subarray(0, box.length - SIGNATURE)), plaintext);
  boxes.push(box);
}

/**
 * A member holds its own signing key, so it can sign any bytes it likes: half the inputs are
 * re-signed by the sender after mutation, which gets them past the signature to the key
 * agreement and the AEAD. The signed text is sealed-box.ts's `signed()`.
 */
function resign(box: Uint8Array): Uint8Array {
  const body = box.subarray(0, Math.max(0, box.length - SIGNATURE));
  const signed = concatBytes([utf8(`sf-sealed-v1\n${sender.id}\n${recipient.id}\n`), body]);
  return concatBytes([body, sender.sign(signed)]);
}

export const sealedBox: FuzzTarget<Uint8Array> = {
  name: 'sealed-box',
  covers: 'src/node/crypto/sealed-box.ts openSealed (mailbox items and deposits), as a stranger and as the signing sender',
  allowed: 'CryptoError (malformed, badSignature, badKey, decrypt)',
  input: fc.oneof(
    { weight: 1, arbitrary: fuzzBytes(fc.constantFrom(...boxes)) },
    { weight: 1, arbitrary: fuzzBytes(fc.constantFrom(...boxes)).map(resign) },
  ),
  size: (box) => box.length,
  isAllowed: (err) => err instanceof CryptoError,
  run(box) {
    const plaintext = openSealed(recipient.keys, recipient.id, sender.keys, sender.id, box);
    // Only what the sender sealed opens: a changed header, key, nonce or ciphertext never does.
    const original = pool.get(toHex(box.subarray(0, box.length - SIGNATURE)));
    if (original === undefined) violation('a box the sender never sealed opened');
    if (toHex(original) !== toHex(plaintext)) violation('a box opened to other bytes than were sealed');
  },
};
