import * as crypto from 'node:crypto';
import {
  agree,
  agreePrivateKey,
  bytes,
  CryptoError,
  signWith,
  verifySignature,
  type DeviceKeys,
  type DevicePublicKeys,
} from './device-keys';
import { concatBytes, utf8 } from '../../sync/util/bytes';

const VERSION = 1;
/** version(1) | ephemeral X25519 public(32) | nonce(12) | ciphertext+tag | Ed25519 signature(64) */
const HEAD = 1 + 32 + 12;
const TAG = 16;
const SIGNATURE = 64;

/**
 * A message for one device that its sender may no longer be online to deliver: the mailbox's
 * unit. Encrypted to the recipient's X25519 key (an ephemeral agreement plus the static one, so
 * only that sender could have made it), signed by the sender's Ed25519 key with both device ids
 * bound in. Replays are the receiver's to drop, by `sealedBoxId`.
 */
export function sealFor(
  sender: DeviceKeys,
  senderId: string,
  recipient: DevicePublicKeys,
  recipientId: string,
  plaintext: Uint8Array,
  random: (n: number) => Uint8Array = (n) => bytes(crypto.randomBytes(n)),
): Uint8Array {
  const ephemeralSecret = random(32);
  const ephemeralPublic = bytes(
    crypto.createPublicKey(agreePrivateKey(ephemeralSecret)).export({ format: 'der', type: 'spki' }).subarray(-32),
  );
  const nonce = random(12);
  const key = boxKey(
    agree(ephemeralSecret, recipient.agreePublic),
    agree(sender.agreeSecret, recipient.agreePublic),
    ephemeralPublic,
    senderId,
    recipientId,
  );
  const head = new Uint8Array(HEAD);
  head[0] = VERSION;
  head.set(ephemeralPublic, 1);
  head.set(nonce, 33);
  const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  cipher.setAAD(head, { plaintextLength: plaintext.length });
  const body = concatBytes([head, bytes(cipher.update(plaintext)), bytes(cipher.final()), bytes(cipher.getAuthTag())]);
  return concatBytes([body, signWith(sender, signed(body, senderId, recipientId))]);
}

export function openSealed(
  recipient: DeviceKeys,
  recipientId: string,
  sender: DevicePublicKeys,
  senderId: string,
  box: Uint8Array,
): Uint8Array {
  if (box.length < HEAD + TAG + SIGNATURE || box[0] !== VERSION)
    throw new CryptoError('malformed', 'sealed box too short or of an unknown version');
  const body = box.subarray(0, box.length - SIGNATURE);
  if (!verifySignature(sender.signPublic, signed(body, senderId, recipientId), box.subarray(box.length - SIGNATURE))) {
    throw new CryptoError('badSignature', `sealed box is not signed by device ${senderId}`);
  }
  const ephemeralPublic = body.subarray(1, 33);
  const key = boxKey(
    agree(recipient.agreeSecret, ephemeralPublic),
    agree(recipient.agreeSecret, sender.agreePublic),
    ephemeralPublic,
    senderId,
    recipientId,
  );
  const decipher = crypto.createDecipheriv('chacha20-poly1305', key, body.subarray(33, HEAD), { authTagLength: TAG });
  decipher.setAAD(body.subarray(0, HEAD), { plaintextLength: body.length - HEAD - TAG });
  decipher.setAuthTag(body.subarray(body.length - TAG));
  try {
    return concatBytes([bytes(decipher.update(body.subarray(HEAD, body.length - TAG))), bytes(decipher.final())]);
  } catch {
    throw new CryptoError('decrypt', 'sealed box failed authentication');
  }
}

/** Hex SHA-256 of the whole box: the same box delivered twice has the same id. */
export function sealedBoxId(box: Uint8Array): string {
  return crypto.createHash('sha256').update(box).digest('hex');
}

function boxKey(
  ephemeral: Uint8Array,
  statics: Uint8Array,
  ephemeralPublic: Uint8Array,
  senderId: string,
  recipientId: string,
): Uint8Array {
  return bytes(
    Buffer.from(crypto.hkdfSync('sha256', concatBytes([ephemeral, statics]), ephemeralPublic, `sf-sealed-v1${senderId}${recipientId}`, 32)),
  );
}

function signed(body: Uint8Array, senderId: string, recipientId: string): Uint8Array {
  return concatBytes([utf8(`sf-sealed-v1\n${senderId}\n${recipientId}\n`), body]);
}
