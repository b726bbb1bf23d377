import { fromHex } from '../../sync/util/bytes';
import type { AccountState, Role, SpaceInfo, UserInfo } from '../../sync/protocol/rendezvous';
import type { DevicePublicKeys } from '../crypto/device-keys';

/**
 * Who is who in the account state the server last sent: users, their devices and keys, and the
 * members of each space with their roles. Everything a device checks before it trusts a message.
 */

/** This user, the contacts, and every user of every space, in that order. */
export function knownUsers(state: AccountState | undefined): UserInfo[] {
  if (!state) return [];
  return [state.user, ...state.contacts, ...state.spaces.flatMap((s) => s.users)];
}

/** The user a device belongs to. */
export function userOfDevice(state: AccountState | undefined, device: string): UserInfo | undefined {
  return knownUsers(state).find((u) => u.devices.some((d) => d.id === device));
}

export function devicesOf(state: AccountState | undefined, user: string): string[] {
  const u = knownUsers(state).find((x) => x.id === user);
  return u ? u.devices.map((d) => d.id) : [];
}

export function spaceInfo(state: AccountState | undefined, space: string): SpaceInfo | undefined {
  return state?.spaces.find((s) => s.doc.id === space);
}

/** The public keys of a device this one may talk to; undefined for any other device. */
export function publicKeysOf(state: AccountState | undefined, device: string): DevicePublicKeys | undefined {
  for (const u of knownUsers(state)) {
    const d = u.devices.find((x) => x.id === device);
    if (d) return { signPublic: fromHex(d.signPublic), agreePublic: fromHex(d.agreePublic) };
  }
  return undefined;
}

/** The member behind a device and its role, if it has joined the space. */
export function roleOf(device: string, info: SpaceInfo): { author: UserInfo | undefined; role: Role | undefined } {
  const author = info.users.find((u) => u.devices.some((d) => d.id === device));
  const role = author && info.status[author.id] === 'joined' ? info.doc.members.find((m) => m.user === author.id)?.role : undefined;
  return { author, role };
}

/** Every device of every member who has joined the space. */
export function joinedDevices(info: SpaceInfo): string[] {
  return info.doc.members
    .filter((m) => info.status[m.user] === 'joined')
    .flatMap((m) => info.users.find((u) => u.id === m.user)?.devices.map((d) => d.id) ?? []);
}
