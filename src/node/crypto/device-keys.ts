/**
 * src/node/crypto/: device keys (Ed25519 to sign, X25519 to agree; this file), which devices of a
 * user to trust (device-trust.ts), the encrypted channel between two devices (secure-session.ts)
 * and sealed boxes for the mailbox (sealed-box.ts). Built on Node's crypto module.
 * Node layer: may import src/sync and the rest of src/node; never vscode, src/server or src/cli.
 */
import * as crypto from 'node:crypto';
import { toHex } from '../../sync/util/bytes';

/** A device's two key pairs, raw 32-byte keys: Ed25519 to sign, X25519 to agree on secrets. */
export interface DeviceKeys extends DevicePublicKeys {
  /** The Ed25519 private key's 32-byte seed. */
  readonly signSecret: Uint8Array;
  readonly agreeSecret: Uint8Array;
}

export interface DevicePublicKeys {
  readonly signPublic: Uint8Array;
  readonly agreePublic: Uint8Array;
}

export class CryptoError extends Error {
  constructor(
    readonly code: 'badSignature' | 'decrypt' | 'replay' | 'malformed' | 'badKey',
    message: string,
  ) {
    super(message);
    this.name = 'CryptoError';
  }
}

// DER prefixes of PKCS#8 private and SPKI public keys; the raw 32 bytes follow each.
const ED25519_PKCS8 = hexBytes('302e020100300506032b657004220420');
const ED25519_SPKI = hexBytes('302a300506032b6570032100');
const X25519_PKCS8 = hexBytes('302e020100300506032b656e04220420');
const X25519_SPKI = hexBytes('302a300506032b656e032100');

export function generateDeviceKeys(): DeviceKeys {
  return deviceKeysFromSeeds(bytes(crypto.randomBytes(32)), bytes(crypto.randomBytes(32)));
}

/** Deterministic keys from two 32-byte seeds (tests, and restoring a saved identity). */
export function deviceKeysFromSeeds(signSeed: Uint8Array, agreeSeed: Uint8Array): DeviceKeys {
  if (signSeed.length !== 32 || agreeSeed.length !== 32) throw new CryptoError('badKey', 'key seeds must be 32 bytes');
  const signPublic = rawPublic(crypto.createPublicKey(signPrivateKey(signSeed)));
  const agreePublic = rawPublic(crypto.createPublicKey(agreePrivateKey(agreeSeed)));
  return { signPublic, signSecret: signSeed.slice(), agreePublic, agreeSecret: agreeSeed.slice() };
}

export function signPrivateKey(seed: Uint8Array): crypto.KeyObject {
  return crypto.createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' });
}

export function agreePrivateKey(secret: Uint8Array): crypto.KeyObject {
  return crypto.createPrivateKey({ key: Buffer.concat([X25519_PKCS8, secret]), format: 'der', type: 'pkcs8' });
}

export function agreePublicKey(raw: Uint8Array): crypto.KeyObject {
  if (raw.length !== 32) throw new CryptoError('badKey', 'an X25519 public key is 32 bytes');
  return crypto.createPublicKey({ key: Buffer.concat([X25519_SPKI, raw]), format: 'der', type: 'spki' });
}

/** X25519 shared secret. */
export function agree(secret: Uint8Array, publicRaw: Uint8Array): Uint8Array {
  try {
    return bytes(crypto.diffieHellman({ privateKey: agreePrivateKey(secret), publicKey: agreePublicKey(publicRaw) }));
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new CryptoError('badKey', `key agreement failed: ${(err as Error).message}`);
  }
}

function rawPublic(key: crypto.KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return bytes(der.subarray(der.length - 32));
}

export function encodeDeviceKeys(k: DeviceKeys): string {
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  return JSON.stringify({ v: 1, signSecret: b64(k.signSecret), agreeSecret: b64(k.agreeSecret) });
}

export function decodeDeviceKeys(text: string): DeviceKeys {
  let o: { v?: unknown; signSecret?: unknown; agreeSecret?: unknown };
  try {
    o = JSON.parse(text) as typeof o;
  } catch {
    throw new CryptoError('malformed', 'device keys are not JSON');
  }
  if (typeof o !== 'object' || o === null || o.v !== 1 || typeof o.signSecret !== 'string' || typeof o.agreeSecret !== 'string')
    throw new CryptoError('malformed', 'device keys are not version 1');
  return deviceKeysFromSeeds(bytes(Buffer.from(o.signSecret, 'base64url')), bytes(Buffer.from(o.agreeSecret, 'base64url')));
}

/** First 16 bytes of SHA-256 over both public keys, hex: no device can claim another's id. */
export function deviceIdOf(pub: DevicePublicKeys): string {
  return crypto
    .createHash('sha256')
    .update('sf-device-id-v1')
    .update(pub.signPublic)
    .update(pub.agreePublic)
    .digest()
    .subarray(0, 16)
    .toString('hex');
}

/** A device as the server and other devices list it: its id and hex public keys. */
export function publicDeviceOf(pub: DevicePublicKeys): { readonly id: string; readonly signPublic: string; readonly agreePublic: string } {
  return { id: deviceIdOf(pub), signPublic: toHex(pub.signPublic), agreePublic: toHex(pub.agreePublic) };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** What two people read to each other to check keys: 16 base32 characters in four groups. */
export function fingerprintOf(pub: DevicePublicKeys): string {
  const digest = crypto.createHash('sha256').update('sf-fingerprint-v1').update(pub.signPublic).update(pub.agreePublic).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest.subarray(0, 10)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}

export function signWith(keys: DeviceKeys, data: Uint8Array): Uint8Array {
  return bytes(crypto.sign(null, data, signPrivateKey(keys.signSecret)));
}

/** Never throws: a malformed key or signature is simply not valid. */
export function verifySignature(signPublic: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  // OpenSSL ignores bytes after a DER key, so a longer "key" would still verify.
  if (signPublic.length !== 32 || signature.length !== 64) return false;
  try {
    const key = crypto.createPublicKey({ key: Buffer.concat([ED25519_SPKI, signPublic]), format: 'der', type: 'spki' });
    return crypto.verify(null, data, key, signature);
  } catch {
    return false;
  }
}

export function bytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function hexBytes(hex: string): Uint8Array {
  return bytes(Buffer.from(hex, 'hex'));
}
