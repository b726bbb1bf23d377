import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { fromHex, toHex } from '../../sync/util/bytes';
import {
  endorsementSigningBytes,
  linkKeySigningBytes,
  type AccountState,
  type DeviceInfo,
  type Endorsement,
  type UserInfo,
} from '../../sync/protocol/rendezvous';
import type { DeviceHome } from '../agent/device-home';
import { writeAtomic } from '../disk/durable-write';
import { SpaceDocTrust } from './space-doc-trust';
import { bytes, deviceKeysFromSeeds, signWith, verifySignature, type DeviceKeys } from './device-keys';

/** What a link code hands the new device: a one-time signing key, certified by the code's maker. */
export interface LinkGrant {
  readonly user: string;
  /** The one-time Ed25519 key's 32-byte seed. */
  readonly seed: Uint8Array;
  readonly by: string;
  readonly keySig: string;
}

export function makeLinkGrant(issuer: DeviceKeys, issuerId: string, user: string): LinkGrant {
  const seed = bytes(crypto.randomBytes(32));
  const key = toHex(linkKeys(seed).signPublic);
  return { user, seed, by: issuerId, keySig: toHex(signWith(issuer, linkKeySigningBytes(user, key))) };
}

/** The endorsement a new device carries, signed with the grant's one-time key. */
export function endorse(grant: LinkGrant, device: Pick<DeviceInfo, 'id' | 'signPublic' | 'agreePublic'>): Endorsement {
  const keys = linkKeys(grant.seed);
  return {
    key: toHex(keys.signPublic),
    by: grant.by,
    keySig: grant.keySig,
    sig: toHex(signWith(keys, endorsementSigningBytes(grant.user, device))),
  };
}

function linkKeys(seed: Uint8Array): DeviceKeys {
  // Only the signing half is used; the agreement half is a throwaway.
  return deviceKeysFromSeeds(seed, new Uint8Array(32).fill(1));
}

/**
 * The user's devices that chain back to its first device (the one whose signing key is `root`):
 * the root itself, then every device endorsed through a link code made by a trusted device.
 */
export function trustedDevices(user: UserInfo, root: string): DeviceInfo[] {
  const trusted = new Map<string, DeviceInfo>();
  for (const d of user.devices) if (d.signPublic === root && !d.endorsement) trusted.set(d.id, d);
  for (let grew = trusted.size > 0; grew;) {
    grew = false;
    for (const d of user.devices) {
      const e = d.endorsement;
      if (trusted.has(d.id) || !e) continue;
      const issuer = trusted.get(e.by);
      if (!issuer) continue;
      if (!verifySignature(fromHex(issuer.signPublic), linkKeySigningBytes(user.id, e.key), fromHex(e.keySig))) continue;
      if (!verifySignature(fromHex(e.key), endorsementSigningBytes(user.id, d), fromHex(e.sig))) continue;
      trusted.set(d.id, d);
      grew = true;
    }
  }
  return user.devices.filter((d) => trusted.has(d.id));
}

/**
 * Each user's first device, as this device learned it: its own user's at init or from the link
 * code, a contact's from the fingerprint in the invite code, anyone else's on first sight. The
 * account state is seen through it: devices that do not chain back to their user's pinned first
 * device are left out, so nothing is ever encrypted for a device a server slipped in.
 */
export class TrustPins {
  constructor(private readonly file: string) {}

  root(user: string): string | undefined {
    return this.all()[user];
  }

  pin(user: string, signPublic: string): void {
    const pins = this.all();
    if (pins[user] === signPublic) return;
    writeAtomic(this.file, JSON.stringify({ ...pins, [user]: signPublic }, null, 2), 0o600);
  }

  /** The state with every user's untrusted devices removed; pins first-seen users. */
  filter(state: AccountState): AccountState {
    const pins = this.all();
    let pinned = false;
    const cache = new Map<string, UserInfo>();
    const see = <U extends UserInfo>(u: U): U => {
      const done = cache.get(u.id);
      if (done) return { ...u, devices: done.devices };
      let root = pins[u.id];
      if (root === undefined) {
        const firsts = u.devices.filter((d) => !d.endorsement);
        if (firsts.length !== 1) return { ...u, devices: [] };
        root = pins[u.id] = firsts[0]!.signPublic;
        pinned = true;
      }
      const seen = { ...u, devices: trustedDevices(u, root) };
      cache.set(u.id, seen);
      return seen;
    };
    const out: AccountState = {
      ...state,
      user: see(state.user),
      contacts: state.contacts.map(see),
      spaces: state.spaces.map((s) => ({ ...s, users: s.users.map(see) })),
    };
    if (pinned) writeAtomic(this.file, JSON.stringify(pins, null, 2), 0o600);
    return out;
  }

  private all(): Record<string, string> {
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  }
}

export function pinsOf(home: DeviceHome): TrustPins {
  return new TrustPins(home.file('pins.json'));
}

/**
 * The filter every connection of the device sees the account state through: this home's pins,
 * then the space documents this device accepts (space-doc-trust.ts). `log` hears each refused document once.
 */
export function trustFilter(home: DeviceHome, log?: (message: string) => void): (state: AccountState) => AccountState {
  const pins = pinsOf(home);
  const docs = new SpaceDocTrust(home, log);
  return (state) => docs.filter(pins.filter(state));
}
