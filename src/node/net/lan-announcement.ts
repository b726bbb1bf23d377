import { concatBytes, fromUtf8, utf8 } from '../../sync/util/bytes';
import { signWith, verifySignature, type DeviceKeys, type DevicePublicKeys } from '../crypto/device-keys';

/** The UDP port every device broadcasts its LAN announcements to, and listens on (PROTOCOL.md R8). */
export const LAN_PORT = 21029;
const MAGIC = utf8('SFDL');
const VERSION = 1;
/** magic(4) | version(1) | TCP port(2) | timestamp ms(8) | device id(32) */
const SIGNED_BYTES = 4 + 1 + 2 + 8 + 32;
export const ANNOUNCEMENT_BYTES = SIGNED_BYTES + 64;
/** An announcement this far from our clock is refused: an old one replayed only makes us dial again, but not forever. */
export const ANNOUNCEMENT_MAX_SKEW_MS = 10 * 60 * 1000;

export interface LanAnnouncement {
  readonly device: string;
  readonly port: number;
  readonly at: number;
}

export function encodeAnnouncement(keys: DeviceKeys, device: string, port: number, at: number): Uint8Array {
  const head = new Uint8Array(SIGNED_BYTES);
  const view = new DataView(head.buffer);
  head.set(MAGIC, 0);
  head[4] = VERSION;
  view.setUint16(5, port);
  view.setBigUint64(7, BigInt(at));
  const id = utf8(device);
  if (id.length !== 32) throw new Error('a device id is 32 characters');
  head.set(id, 15);
  return concatBytes([head, signWith(keys, signed(head))]);
}

/**
 * The announcement in `datagram` if it is well formed, from a device `lookup` knows, recent and
 * signed by that device's key; undefined otherwise (a LAN carries anyone's datagrams).
 */
export function verifyAnnouncement(
  datagram: Uint8Array,
  lookup: (device: string) => DevicePublicKeys | undefined,
  now: number,
): LanAnnouncement | undefined {
  if (datagram.length !== ANNOUNCEMENT_BYTES) return undefined;
  if (!MAGIC.every((b, i) => datagram[i] === b) || datagram[4] !== VERSION) return undefined;
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.length);
  const port = view.getUint16(5);
  const at = Number(view.getBigUint64(7));
  const device = fromUtf8(datagram.subarray(15, 47));
  if (port === 0 || !/^[0-9a-f]{32}$/.test(device) || Math.abs(now - at) > ANNOUNCEMENT_MAX_SKEW_MS) return undefined;
  const keys = lookup(device);
  if (!keys) return undefined;
  if (!verifySignature(keys.signPublic, signed(datagram.subarray(0, SIGNED_BYTES)), datagram.subarray(SIGNED_BYTES))) return undefined;
  return { device, port, at };
}

function signed(head: Uint8Array): Uint8Array {
  return concatBytes([utf8('sf-direct-lan-v1\n'), head]);
}
