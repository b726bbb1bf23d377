import * as fs from 'node:fs';
import { parseSpaceDoc, type AccountState, type SpaceDoc, type SpaceInfo } from '../../sync/protocol/rendezvous';
import { checkSpaceDoc, type SpaceDocFault, type SpaceDocSigner } from '../../sync/protocol/space-doc-chain';
import { fromHex } from '../../sync/util/bytes';
import { printable } from '../../sync/util/printable';
import type { DeviceHome } from '../agent/device-home';
import { replaceFileSync } from '../disk/durable-write';
import { verifySignature } from './device-keys';

/** A version of a space document this device refused, kept until the server shows one it accepts. */
export interface SpaceDocRefusal {
  readonly space: string;
  readonly version: number;
  readonly fault: SpaceDocFault | 'malformed';
  /** One line for logs and status: names the space, the version and what failed. */
  readonly message: string;
}

interface Saved {
  /** Per space, the last version this device accepted: later versions chain from it, older ones are refused. */
  readonly accepted: Record<string, SpaceDoc>;
  readonly refused: Record<string, SpaceDocRefusal>;
}

const FILE = 'space-docs.json';

/**
 * The space documents in an account state, as this device accepts them (space-doc-chain.ts):
 * a space whose document fails keeps the last version this device accepted, or is left out
 * when it has none. Runs after the device-trust filter, so an author is known only through a
 * device that chains back to its user's pinned first device. The accepted versions live in the
 * home, written through to the disk, so a server cannot roll a device back across restarts.
 */
export class SpaceDocTrust {
  constructor(
    private readonly home: DeviceHome,
    private readonly log?: (message: string) => void,
  ) {}

  filter(state: AccountState): AccountState {
    const saved = savedOf(this.home);
    const accepted = { ...saved.accepted };
    const refused: Record<string, SpaceDocRefusal> = {};
    const spaces: SpaceInfo[] = [];
    for (const info of state.spaces) {
      const id = printable(String(info.doc?.id));
      const verdict = judge(accepted[id], info, state);
      if (verdict.ok) {
        accepted[id] = verdict.doc;
        spaces.push(withDoc(info, verdict.doc));
        continue;
      }
      const last = accepted[id];
      const refusal: SpaceDocRefusal = {
        space: id,
        version: Number(info.doc?.version),
        fault: verdict.fault,
        message:
          `refused version ${Number(info.doc?.version)} of its member list from the server: ${verdict.reason}; ` +
          (last ? `keeping version ${last.version}` : 'not using the space'),
      };
      refused[id] = refusal;
      const before = saved.refused[id];
      if (before?.version !== refusal.version || before.fault !== refusal.fault) this.log?.(`space ${id}: ${refusal.message}`);
      if (last) spaces.push(withDoc(info, last));
    }
    const next: Saved = { accepted, refused };
    if (JSON.stringify(next) !== JSON.stringify(saved)) this.save(next);
    return { ...state, spaces };
  }

  private save(next: Saved): void {
    const release = this.home.lock();
    try {
      // Another process of this home may have accepted a later version meanwhile: never go back.
      const now = savedOf(this.home);
      const accepted = { ...next.accepted };
      for (const [id, doc] of Object.entries(now.accepted)) {
        if ((accepted[id]?.version ?? 0) < doc.version) accepted[id] = doc;
      }
      replaceFileSync(this.home.file(FILE), JSON.stringify({ accepted, refused: next.refused }, null, 2), {
        durability: 'file-and-folder',
        mode: 0o600,
      });
    } finally {
      release();
    }
  }
}

/** The space documents this device refuses now, for status. */
export function spaceDocRefusals(home: DeviceHome): SpaceDocRefusal[] {
  return Object.values(savedOf(home).refused);
}

function judge(
  accepted: SpaceDoc | undefined,
  info: SpaceInfo,
  state: AccountState,
): { ok: true; doc: SpaceDoc } | { ok: false; fault: SpaceDocFault | 'malformed'; reason: string } {
  let doc: SpaceDoc;
  try {
    doc = parseSpaceDoc(info.doc);
  } catch (err) {
    return { ok: false, fault: 'malformed', reason: `it is malformed: ${(err as Error).message}` };
  }
  const verdict = checkSpaceDoc(accepted, doc, signerOf(doc.author, info, state), verifyHex);
  return verdict.ok ? { ok: true, doc } : verdict;
}

/** The space as `doc` has it: the users the server lists may include ones that `doc` does not. */
function withDoc(info: SpaceInfo, doc: SpaceDoc): SpaceInfo {
  return { ...info, doc, users: info.users.filter((u) => doc.members.some((m) => m.user === u.id)) };
}

/** The author device's user and key, among the devices left after the device-trust filter. */
function signerOf(device: string, info: SpaceInfo, state: AccountState): SpaceDocSigner | undefined {
  for (const user of [...info.users, state.user]) {
    const d = user.devices.find((x) => x.id === device);
    if (d) return { user: user.id, name: printable(String(user.name)), signPublic: d.signPublic };
  }
  return undefined;
}

function verifyHex(signPublic: string, message: Uint8Array, signature: string): boolean {
  try {
    return verifySignature(fromHex(signPublic), message, fromHex(signature));
  } catch {
    return false;
  }
}

function savedOf(home: DeviceHome): Saved {
  try {
    const saved = JSON.parse(fs.readFileSync(home.file(FILE), 'utf8')) as Partial<Saved>;
    return { accepted: saved.accepted ?? {}, refused: saved.refused ?? {} };
  } catch {
    return { accepted: {}, refused: {} };
  }
}
