import type { ContactView, EngineStatus, MemberView, SpaceView } from '../../../src/node/engine/engine-protocol';

/** Engine statuses for view-model tests: alice (this user) with contacts bob and carol. */
export const ALICE = { device: 'dev-alice', user: 'u-alice', name: 'alice', server: 'ws://127.0.0.1:7070', fingerprint: 'AAAA-1111' };

export function contact(
  id: string,
  name: string,
  presence: ContactView['presence'],
  fingerprints: string[] = [`${name.toUpperCase()}-FP`],
): ContactView {
  return { id, name, presence, fingerprints };
}

export function member(user: string, name: string, extra: Partial<MemberView> = {}): MemberView {
  return { user, name, role: 'editor', status: 'joined', presence: 'online', ...extra };
}

export function space(id: string, name: string, extra: Partial<SpaceView> = {}): SpaceView {
  return {
    id,
    name,
    path: `/home/alice/${name}`,
    kind: 'pair',
    role: 'owner',
    members: [member('u-alice', 'alice', { role: 'owner' }), member('u-bob', 'bob')],
    state: { kind: 'inSync' },
    conflicts: [],
    errors: [],
    unseen: 0,
    ...extra,
  };
}

export function status(extra: Partial<EngineStatus> = {}): EngineStatus {
  return {
    identity: ALICE,
    connected: true,
    contacts: [contact('u-bob', 'bob', 'online'), contact('u-carol', 'carol', 'away')],
    pendingContacts: [],
    spaces: [],
    invitations: [],
    bytesSent: 0,
    bytesReceived: 0,
    ...extra,
  };
}
