import { isHexId } from '../../sync/util/hex-id';
import { validatePath } from '../../sync/model/path';
import type { UserInfo } from '../../sync/protocol/rendezvous';
import type { DeviceKeys } from '../crypto/device-keys';
import type { RendezvousClient } from '../net/rendezvous-client';
import { depositSealed } from '../net/sealed-deposit';
import { MailKind } from '../net/payload-kind';

/**
 * A space's name, end to end encrypted from the member who shared it to every member device:
 * the server never learns it, and a member's other devices can name the folder they create.
 */
export interface SpaceNote {
  readonly space: string;
  readonly name: string;
}

export function encodeSpaceNote(note: SpaceNote): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify({ space: note.space, name: note.name }));
  const out = new Uint8Array(1 + body.length);
  out[0] = MailKind.SpaceNote;
  out.set(body, 1);
  return out;
}

/** Undefined unless the payload is a note whose name can be one folder name on any system. */
export function parseSpaceNote(payload: Uint8Array): SpaceNote | undefined {
  if (payload[0] !== MailKind.SpaceNote) return undefined;
  try {
    const o = JSON.parse(new TextDecoder().decode(payload.subarray(1))) as Partial<SpaceNote>;
    if (!isHexId(o.space) || typeof o.name !== 'string') return undefined;
    if (!isFolderName(o.name)) return undefined;
    return { space: o.space, name: o.name };
  } catch {
    return undefined;
  }
}

/** One path segment that every platform can hold and that is not one of ours. */
export function isFolderName(name: string): boolean {
  return name.length > 0 && !name.includes('/') && validatePath(name) === undefined;
}

export function sendSpaceNote(client: RendezvousClient, keys: DeviceKeys, recipients: readonly UserInfo[], note: SpaceNote): number {
  return depositSealed(client, keys, recipients, encodeSpaceNote(note));
}
