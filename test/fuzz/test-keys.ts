import * as crypto from 'node:crypto';
import { bytes, deviceIdOf, deviceKeysFromSeeds, signPrivateKey, type DeviceKeys } from '../../src/node/crypto/device-keys';

/** Fixed device keys for the crypto targets: the same inputs give the same boxes and frames on every run. */
export interface TestDevice {
  readonly keys: DeviceKeys;
  readonly id: string;
  /** Signs as the device would, with its key object made once: a hostile peer re-signing its mutated bytes. */
  readonly sign: (data: Uint8Array) => Uint8Array;
}

export function testDevice(label: string): TestDevice {
  const seed = (part: string): Uint8Array => bytes(crypto.createHash('sha256').update(`fuzz/${label}/${part}`).digest());
  const keys = deviceKeysFromSeeds(seed('sign'), seed('agree'));
  const key = signPrivateKey(keys.signSecret);
  return { keys, id: deviceIdOf(keys), sign: (data) => bytes(crypto.sign(null, data, key)) };
}

/** Deterministic "random" bytes from a label, for sealFor and SecureSession.start. */
export function seededRandom(label: string): (n: number) => Uint8Array {
  let block = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n; at += 32)
      out.set(
        crypto
          .createHash('sha256')
          .update(`${label}/${block++}`)
          .digest()
          .subarray(0, n - at),
        at,
      );
    return out;
  };
}
