import * as crypto from 'node:crypto';
import type { DeviceInfo } from '../sync/protocol/rendezvous';

/** A device id is derived from its keys, so no device can claim another's id. */
export function deviceIdFromKeys(signPublic: Uint8Array, agreePublic: Uint8Array): string {
  return crypto
    .createHash('sha256')
    .update('sf-device-id-v1')
    .update(signPublic)
    .update(agreePublic)
    .digest()
    .subarray(0, 16)
    .toString('hex');
}

export function deviceIdMatches(device: DeviceInfo): boolean {
  return deviceIdFromKeys(fromHex(device.signPublic), fromHex(device.agreePublic)) === device.id;
}

function fromHex(hex: string): Uint8Array {
  const buf = Buffer.from(hex, 'hex');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Never throws: malformed keys or signatures are simply not valid. */
export function verifyEd25519(signPublicHex: string, data: Uint8Array, signatureHex: string): boolean {
  // OpenSSL ignores bytes after a DER key, so a longer "key" would still verify.
  if (!/^[0-9a-f]{64}$/.test(signPublicHex) || !/^[0-9a-f]{128}$/.test(signatureHex)) return false;
  try {
    // The DER prefix of an Ed25519 SubjectPublicKeyInfo, then the raw 32-byte key.
    const der = Buffer.from('302a300506032b6570032100' + signPublicHex, 'hex');
    const key = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
    return crypto.verify(null, data, key, fromHex(signatureHex));
  } catch {
    return false;
  }
}
