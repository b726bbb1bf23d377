import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { AccountState } from '../../sync/protocol/rendezvous';
import type { DeviceKeys } from '../crypto/device-keys';
import { DiskStore } from '../disk/disk-store';
import type { RendezvousClient } from '../net/rendezvous-client';
import { depositSealed } from '../net/sealed-deposit';
import type { DeviceHome } from './device-home';
import { writeAtomic } from '../disk/durable-write';
import { encodeSpaceNote, isFolderName } from './space-note';

/** How long after starting a space joined on another device waits for its name to arrive. */
const NOTE_WAIT_MS = 10_000;

export interface SiblingSpacesOptions {
  readonly home: DeviceHome;
  readonly keys: DeviceKeys;
  readonly client: RendezvousClient;
  /** Looks at the spaces again: a note may have arrived meanwhile. */
  readonly recheck: () => void;
  readonly log: (message: string) => void;
}

/**
 * A user's devices sync every space the user joined, each in a folder named by its space note:
 * this device joins here what its siblings joined, and tells a newly linked sibling the names.
 */
export class SiblingSpaces {
  private readonly startedAt = Date.now();
  private noteTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SiblingSpacesOptions) {}

  close(): void {
    clearTimeout(this.noteTimer);
  }

  /**
   * A space joined on another device gets a folder here too, named by its space note, or by its
   * id until a note arrives.
   */
  async join(joined: readonly string[], root: string): Promise<void> {
    const { home } = this.options;
    const local = new Set(home.spaces().map((s) => s.id));
    const names = home.spaceNames();
    for (const id of joined) {
      if (local.has(id)) continue;
      if (names[id] === undefined && Date.now() - this.startedAt < NOTE_WAIT_MS) {
        // Its note may be on its way from a sibling device that signed in at the same moment.
        if (!this.noteTimer) this.noteTimer = setTimeout(() => this.options.recheck(), NOTE_WAIT_MS).unref();
        continue;
      }
      const path = freeFolder(root, names[id] ?? `shared-${id.slice(0, 8)}`);
      await DiskStore.initFolder(path, id);
      home.putSpace({ id, path });
      this.options.log(`space ${id}: joined on another device of this user; syncing it into ${path}`);
    }
  }

  /**
   * A device linked after a space was shared never got its note: this user's devices that know
   * the names tell each new sibling once.
   */
  tellNewSiblings(state: AccountState): void {
    const { home, client } = this.options;
    const file = home.file('named-devices.json');
    let told: string[] = [];
    try {
      told = JSON.parse(fs.readFileSync(file, 'utf8')) as string[];
    } catch {
      // None told yet.
    }
    const fresh = state.user.devices.filter((d) => d.id !== client.device.id && !told.includes(d.id));
    if (fresh.length === 0) return;
    const names: Record<string, string> = { ...home.spaceNames() };
    for (const local of home.spaces()) names[local.id] = nodePath.basename(local.path);
    try {
      for (const [space, name] of Object.entries(names)) {
        if (isFolderName(name))
          depositSealed(client, this.options.keys, [{ ...state.user, devices: fresh }], encodeSpaceNote({ space, name }));
      }
    } catch {
      return; // Not connected: told at the next sign-in.
    }
    writeAtomic(file, JSON.stringify([...told, ...fresh.map((d) => d.id)]));
  }
}

/** `root/name`, or `root/name (2)` and so on when a folder that is not empty is already there. */
function freeFolder(root: string, name: string): string {
  for (let n = 1; ; n++) {
    const path = nodePath.join(root, n === 1 ? name : `${name} (${n})`);
    try {
      if (fs.readdirSync(path).length === 0) return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path;
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
  }
}
