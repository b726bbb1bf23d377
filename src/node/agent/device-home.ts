import { isHexId } from '../../sync/util/hex-id';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { decodeDeviceKeys, encodeDeviceKeys, type DeviceKeys } from '../crypto/device-keys';
import { writeAtomic } from '../disk/durable-write';

/** What a device remembers about itself: its keys and where its server is. */
export interface Identity {
  readonly keys: DeviceKeys;
  readonly server: string;
  readonly name: string;
  /** Known once the device has signed in for the first time. */
  readonly user?: string;
}

/** A space this device has joined, and where its folder is. */
export interface LocalSpace {
  readonly id: string;
  readonly path: string;
  /** Paused by the user: the space neither sends nor applies changes until resumed. */
  readonly paused?: boolean;
  /** This device syncs the folder's `.git` folders, all but their hooks and configs (protected-paths.ts). */
  readonly syncGit?: boolean;
  /** What blocks from the mailbox may take on disk for this space, when not the default. */
  readonly mailCacheBytes?: number;
}

/** A device's own settings for one space: never synced, so no member can change them. */
export type SpaceSettings = Pick<LocalSpace, 'syncGit' | 'mailCacheBytes'>;

export class HomeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HomeError';
  }
}

/**
 * A device's home folder (a CLI `--home`, or the extension's storage): identity, joined spaces,
 * chat history, and each replica's state. Every file is replaced by rename, so a `run` daemon and
 * a one-shot command working on the same home never see half a file; the replica states are
 * locked per space by their journals.
 */
export class DeviceHome {
  constructor(readonly dir: string) {}

  get exists(): boolean {
    return fs.existsSync(this.file('identity.json'));
  }

  /**
   * The device's identity. The keys come from identity.json (the CLI keeps them there) or, when
   * it holds none, from `keys`: the extension keeps them in VS Code's SecretStorage instead.
   */
  identity(keys?: DeviceKeys): Identity {
    let text: string;
    try {
      text = fs.readFileSync(this.file('identity.json'), 'utf8');
    } catch {
      throw new HomeError(`${this.dir} has no device identity yet: run "shared-folders init --home ${this.dir}" first`);
    }
    const o = JSON.parse(text) as { keys?: string; server: string; name: string; user?: string };
    const found = o.keys !== undefined ? decodeDeviceKeys(o.keys) : keys;
    if (!found) throw new HomeError(`${this.dir} keeps no device keys and none were given`);
    return { keys: found, server: o.server, name: o.name, ...(o.user ? { user: o.user } : {}) };
  }

  /** With `withKeys: false` identity.json holds everything but the keys, which the caller keeps. */
  saveIdentity(identity: Identity, options: { readonly withKeys?: boolean } = {}): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const keys = (options.withKeys ?? true) ? { keys: encodeDeviceKeys(identity.keys) } : {};
    writeAtomic(
      this.file('identity.json'),
      JSON.stringify({ ...keys, server: identity.server, name: identity.name, ...(identity.user ? { user: identity.user } : {}) }, null, 2),
      0o600,
    );
  }

  /** Whether identity.json holds the device keys itself. */
  get keepsKeys(): boolean {
    try {
      return (JSON.parse(fs.readFileSync(this.file('identity.json'), 'utf8')) as { keys?: string }).keys !== undefined;
    } catch {
      return false;
    }
  }

  spaces(): LocalSpace[] {
    try {
      return JSON.parse(fs.readFileSync(this.file('spaces.json'), 'utf8')) as LocalSpace[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Adds or moves a space; read-modify-write under a short lock so two processes do not lose each other's change. */
  putSpace(space: LocalSpace): void {
    this.withLock(() => {
      const spaces = this.spaces().filter((s) => s.id !== space.id);
      spaces.push(space);
      writeAtomic(this.file('spaces.json'), JSON.stringify(spaces, null, 2), 0o600);
    });
  }

  /** Pauses or resumes a space; kept with the space, so it survives a restart. */
  setPaused(id: string, paused: boolean): void {
    this.withLock(() => {
      const spaces = this.spaces().map((s) => (s.id === id ? { ...withoutFlag(s, 'paused'), ...(paused ? { paused: true } : {}) } : s));
      writeAtomic(this.file('spaces.json'), JSON.stringify(spaces, null, 2), 0o600);
    });
  }

  /** Changes this device's own settings of a space; false when the space is not joined here. */
  setSpaceSettings(id: string, settings: SpaceSettings): boolean {
    return this.withLock(() => {
      const spaces = this.spaces();
      if (!spaces.some((s) => s.id === id)) return false;
      const changed = spaces.map((s) => {
        if (s.id !== id) return s;
        let out = s;
        if (settings.syncGit !== undefined) out = { ...withoutFlag(out, 'syncGit'), ...(settings.syncGit ? { syncGit: true } : {}) };
        if (settings.mailCacheBytes !== undefined) out = { ...out, mailCacheBytes: settings.mailCacheBytes };
        return out;
      });
      writeAtomic(this.file('spaces.json'), JSON.stringify(changed, null, 2), 0o600);
      return true;
    });
  }

  removeSpace(id: string): void {
    this.withLock(() =>
      writeAtomic(
        this.file('spaces.json'),
        JSON.stringify(
          this.spaces().filter((s) => s.id !== id),
          null,
          2,
        ),
        0o600,
      ),
    );
  }

  /** Changes to the list of spaces, made by this or another process. */
  watchSpaces(onChange: () => void): () => void {
    const watcher = fs.watch(this.dir, (_event, name) => {
      if (name === 'spaces.json') onChange();
    });
    return () => watcher.close();
  }

  /** What members called each space, from their space notes (never from the server). */
  spaceNames(): Record<string, string> {
    try {
      return JSON.parse(fs.readFileSync(this.file('names.json'), 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  }

  putSpaceName(space: string, name: string): void {
    this.withLock(() => writeAtomic(this.file('names.json'), JSON.stringify({ ...this.spaceNames(), [space]: name }, null, 2), 0o600));
  }

  stateDir(space: string): string {
    return nodePath.join(this.dir, 'state', space);
  }

  /** Every conversation's history (`ID.jsonl`) and read mark. */
  get chatDir(): string {
    return nodePath.join(this.dir, 'chat');
  }

  chatFile(conversation: string): string {
    // The name comes from a message: never a path of its own.
    if (!isHexId(conversation)) throw new Error(`not a conversation id: ${JSON.stringify(conversation).slice(0, 80)}`);
    return nodePath.join(this.chatDir, `${conversation}.jsonl`);
  }

  file(name: string): string {
    return nodePath.join(this.dir, name);
  }

  /**
   * Takes the home's short lock (a directory, so it works across processes) and returns its
   * release. Hold it for milliseconds: others wait for it with a blocked thread, at most 10 s.
   */
  lock(): () => void {
    const lock = this.file('home.lock');
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        fs.mkdirSync(lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // A lock older than 30 s belongs to a process that died holding it.
        const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age > 30_000) fs.rmSync(lock, { recursive: true, force: true });
        else if (Date.now() > deadline) throw new HomeError(`${this.dir} is locked by another process (${lock})`);
        else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
    return () => fs.rmSync(lock, { recursive: true, force: true });
  }

  private withLock<T>(run: () => T): T {
    const release = this.lock();
    try {
      return run();
    } finally {
      release();
    }
  }
}

function withoutFlag(space: LocalSpace, flag: 'paused' | 'syncGit'): LocalSpace {
  const { [flag]: _dropped, ...rest } = space;
  return rest;
}
