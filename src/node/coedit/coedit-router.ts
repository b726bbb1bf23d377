/**
 * src/node/coedit/: the engine host's part in live co-editing: it routes announcements and Yjs
 * frames between the editor (engine-protocol.ts) and other member devices (message kind 4 on the
 * encrypted channels), and keeps readers' edits out (coedit-filter.ts). It holds no Yjs
 * document: that lives in the extension host (src/vscode/coedit).
 * Node layer: may import src/sync and the rest of src/node; never vscode, src/server or src/cli.
 */
import type { Role, UserInfo } from '../../sync/protocol/rendezvous';
import { readerMayPass } from './coedit-filter';
import {
  CoeditNoticeError,
  decodeNotice,
  encodeNotice,
  isSessionName,
  MAX_FRAME_BYTES,
  pathProblem,
  type CoeditNotice,
} from './coedit-notice';
import { EngineError } from '../engine/engine-error';
import { isHexId } from '../../sync/util/hex-id';
import type { ActiveEditorView, CoeditPeerView } from '../engine/engine-protocol';

/** Files one device may have announced at a time; a hostile peer cannot make the map grow past it. */
export const MAX_OPEN_PER_DEVICE = 256;

/** Distinct problems logged; past this the log line is not repeated (a peer could vary them). */
const MAX_LOGGED = 1000;

/** What the router needs to know of the account: who may take part in a space, and who is online. */
export interface CoeditDirectory {
  /** The user and role of a device (not this one) whose user has joined the space; undefined otherwise. */
  member(space: string, device: string): { readonly user: UserInfo; readonly role: Role } | undefined;
  /** Joined member devices of the space that are online now, this device aside. */
  reachable(space: string): readonly string[];
  /** Whether this device's user joined the space and this device holds a copy of it. */
  joinedHere(space: string): boolean;
}

export interface CoeditRouterOptions {
  readonly directory: CoeditDirectory;
  /** Hands a plaintext to the encrypted channel of a device; live only, never mailed. */
  readonly send: (device: string, payload: Uint8Array) => void;
  /** The devices that have a file open changed (a full list, for that file). */
  readonly onPeers: (space: string, path: string, peers: readonly CoeditPeerView[]) => void;
  readonly onFrame: (space: string, path: string, session: string, from: string, frame: Uint8Array) => void;
  readonly onActiveEditor: (editor: ActiveEditorView) => void;
  readonly log: (message: string) => void;
}

interface Announced {
  readonly session: string;
  readonly live: boolean;
  readonly disk?: string;
}

interface OpenHere {
  readonly space: string;
  readonly path: string;
  readonly session: string;
  readonly live: boolean;
  readonly disk?: string;
}

interface ActiveThere {
  readonly space: string;
  readonly path?: string;
  readonly top?: number;
  /** The user whose editor this device's user follows. */
  readonly following?: string;
  /** Order of arrival: the latest of a user's devices says where the user is. */
  readonly order: number;
}

/**
 * The engine host's part of live co-editing (docs/COEDIT.md §3): it carries the editor's opaque
 * frames between the devices that have a file open, over the encrypted channels, and never looks
 * inside a frame except to keep a reader's edits out. It keeps, per file, what every member device
 * announced (its session and whether it was live), answers announcements it did not know, and
 * forgets a device as soon as its channel goes or starts over, so the editor can take it out of
 * the session at once.
 */
export class CoeditRouter {
  /** Announcements of other devices, by file (`space/path`), then device. */
  private readonly peers = new Map<string, Map<string, Announced>>();
  private readonly openCount = new Map<string, number>();
  /** This device's own open files, by file. */
  private readonly mine = new Map<string, OpenHere>();
  private myActive: { space?: string; path?: string; top?: number; following?: string } = {};
  private readonly theirActive = new Map<string, ActiveThere>();
  private readonly logged = new Set<string>();
  private arrivals = 0;

  constructor(private readonly options: CoeditRouterOptions) {}

  // ---- what this device does ----------------------------------------------------------------

  open(space: string, path: string, session: string, live: boolean, disk?: string): void {
    this.checkLocal(space, path);
    if (!isSessionName(session)) throw new EngineError('usage', 'a session is named by the SHA-256 (hex, lower case) of its seed');
    if (disk !== undefined && !isSessionName(disk)) throw new EngineError('usage', "a file's hash is its SHA-256 (hex, lower case)");
    const key = fileKey(space, path);
    const entry: OpenHere = { space, path, session, live: live === true, ...(disk !== undefined ? { disk } : {}) };
    this.mine.set(key, entry);
    for (const device of this.options.directory.reachable(space)) this.sendTo(device, openNotice(entry));
    // The editor learns at once who is there already: they announced to every member device.
    this.emitPeers(space, path);
  }

  close(space: string, path: string): void {
    const key = fileKey(space, path);
    if (!this.mine.delete(key)) return;
    for (const device of this.options.directory.reachable(space)) this.sendTo(device, { t: 'close', space, path });
  }

  send(space: string, path: string, session: string, frames: readonly Uint8Array[], to?: string): void {
    this.checkLocal(space, path);
    if (!isSessionName(session)) throw new EngineError('usage', 'a session is named by the SHA-256 (hex, lower case) of its seed');
    for (const frame of frames) {
      if (frame.length < 2 || frame.length > MAX_FRAME_BYTES)
        throw new EngineError('usage', `a co-editing frame is 2 to ${MAX_FRAME_BYTES} bytes, not ${frame.length}`);
    }
    const reachable = this.options.directory.reachable(space);
    let targets: string[];
    if (to !== undefined) {
      if (!this.options.directory.member(space, to))
        throw new EngineError('usage', `device ${String(to)} is not a member device of space ${space}`);
      targets = reachable.includes(to) ? [to] : [];
    } else {
      const there = this.peers.get(fileKey(space, path));
      targets = reachable.filter((d) => there?.get(d)?.session === session);
    }
    for (const device of targets) for (const frame of frames) this.sendTo(device, { t: 'frame', space, path, session, frame });
  }

  /**
   * The file this user has in front of them, or none; the members of its space (and of the one
   * left) learn it. `following`: the member whose editor this user follows there, who learns it
   * with the rest (and, with the rest, learns when it ends).
   */
  setActiveEditor(space: string | undefined, path: string | undefined, top: number | undefined, following?: string): void {
    if (following !== undefined && (space === undefined || !isHexId(following)))
      throw new EngineError('usage', 'following names a user (an id) of the space given');
    if (space !== undefined) {
      if (!this.options.directory.joinedHere(space)) throw new EngineError('usage', `space ${space} is not joined on this device`);
      if (path !== undefined) {
        const problem = pathProblem(path);
        if (problem) throw new EngineError('usage', problem);
      }
      if (top !== undefined && (!Number.isInteger(top) || top < 0)) throw new EngineError('usage', 'top is a line number, 0 or more');
    }
    const before = this.myActive.space;
    this.myActive =
      space === undefined
        ? {}
        : {
            space,
            ...(path !== undefined ? { path } : {}),
            ...(path !== undefined && top !== undefined ? { top } : {}),
            ...(following !== undefined ? { following } : {}),
          };
    if (before !== undefined && before !== space) {
      for (const device of this.options.directory.reachable(before)) this.sendTo(device, { t: 'active', space: before });
    }
    if (space !== undefined) for (const device of this.options.directory.reachable(space)) this.sendActive(device);
  }

  /** The file a member user has active in a space, from its devices' latest notice. */
  activeFile(space: string, user: string): string | undefined {
    let best: ActiveThere | undefined;
    for (const [device, active] of this.theirActive) {
      if (active.space !== space || active.path === undefined) continue;
      if (this.options.directory.member(space, device)?.user.id !== user) continue;
      if (!best || active.order > best.order) best = active;
    }
    return best?.path;
  }

  // ---- other devices --------------------------------------------------------------------------

  /** A device came online, or this device signed in again: it hears what this one has open. */
  deviceOnline(device: string): void {
    for (const entry of this.mine.values()) {
      if (this.options.directory.member(entry.space, device)) this.sendTo(device, openNotice(entry));
    }
    if (this.myActive.space !== undefined && this.options.directory.member(this.myActive.space, device)) this.sendActive(device);
  }

  /**
   * The channel to a device came up, first or again (the other side restarted): what it said
   * before belongs to a session it no longer has. It hears this device's files again.
   */
  channelReady(device: string): void {
    this.forget(device);
    this.deviceOnline(device);
  }

  /** A device went offline: it leaves every session at once. */
  deviceGone(device: string): void {
    this.forget(device);
  }

  /** Membership may have changed: forgets devices no longer members, and this device's files in spaces it left. */
  membershipChanged(): void {
    for (const [key, there] of [...this.peers]) {
      const space = spaceOf(key);
      const gone = [...there.keys()].filter((device) => !this.options.directory.member(space, device));
      for (const device of gone) this.forgetFile(device, key);
      if (gone.length > 0) this.emitPeers(space, key.slice(space.length + 1));
    }
    for (const [device, active] of [...this.theirActive])
      if (!this.options.directory.member(active.space, device)) this.forgetActive(device);
    for (const [key, entry] of [...this.mine]) if (!this.options.directory.joinedHere(entry.space)) this.mine.delete(key);
    if (this.myActive.space !== undefined && !this.options.directory.joinedHere(this.myActive.space)) this.myActive = {};
  }

  /** A kind-4 plaintext from a device's channel. Bad input is dropped with one log line per device and problem. */
  receive(device: string, plaintext: Uint8Array): void {
    let notice: CoeditNotice;
    try {
      notice = decodeNotice(plaintext);
    } catch (err) {
      if (!(err instanceof CoeditNoticeError)) throw err;
      this.logOnce(`bad/${device}/${err.message}`, `co-editing: dropped a notice from device ${device}: ${err.message}`);
      return;
    }
    const member = this.options.directory.member(notice.space, device);
    if (!member) {
      this.logOnce(
        `member/${device}/${notice.space}`,
        `co-editing: dropped a notice from device ${device}, which is not a joined member device of space ${notice.space}`,
      );
      return;
    }
    switch (notice.t) {
      case 'open':
        return this.onOpen(device, notice);
      case 'close':
        if (this.forgetFile(device, fileKey(notice.space, notice.path))) this.emitPeers(notice.space, notice.path);
        return;
      case 'frame':
        if (member.role === 'reader' && !readerMayPass(notice.frame)) {
          this.logOnce(
            `reader/${device}/${notice.space}`,
            `co-editing: dropped changes from ${member.user.name} (device ${device}), who may only read space ${notice.space}`,
          );
          return;
        }
        // Nobody here to take it: the file was closed meanwhile.
        if (!this.mine.has(fileKey(notice.space, notice.path))) return;
        this.options.onFrame(notice.space, notice.path, notice.session, device, notice.frame);
        return;
      case 'active':
        return this.onActive(device, member.user, notice);
    }
  }

  // ---- inside -------------------------------------------------------------------------------

  private onOpen(device: string, notice: Extract<CoeditNotice, { t: 'open' }>): void {
    const key = fileKey(notice.space, notice.path);
    let there = this.peers.get(key);
    const before = there?.get(device);
    if (!before) {
      const count = this.openCount.get(device) ?? 0;
      if (count >= MAX_OPEN_PER_DEVICE) {
        this.logOnce(
          `many/${device}`,
          `co-editing: device ${device} announced more than ${MAX_OPEN_PER_DEVICE} open files; ignoring the rest`,
        );
        return;
      }
      this.openCount.set(device, count + 1);
      if (!there) this.peers.set(key, (there = new Map()));
    }
    there!.set(device, { session: notice.session, live: notice.live, ...(notice.disk !== undefined ? { disk: notice.disk } : {}) });
    const mine = this.mine.get(key);
    // A device that did not know this one yet (it opened the file after, or came back) hears its session.
    if (!before && !notice.reply && mine) this.sendTo(device, { ...openNotice(mine), reply: true });
    if (!before || before.session !== notice.session || before.live !== notice.live || before.disk !== notice.disk)
      this.emitPeers(notice.space, notice.path);
  }

  private onActive(device: string, user: UserInfo, notice: Extract<CoeditNotice, { t: 'active' }>): void {
    const before = this.theirActive.get(device);
    // A notice of "nothing in this space" from a device active in another one says nothing new.
    if (notice.path === undefined && notice.following === undefined && before && before.space !== notice.space) return;
    this.theirActive.set(device, {
      space: notice.space,
      ...(notice.path !== undefined ? { path: notice.path } : {}),
      ...(notice.top !== undefined ? { top: notice.top } : {}),
      ...(notice.following !== undefined ? { following: notice.following } : {}),
      order: ++this.arrivals,
    });
    const name = user.name;
    this.options.onActiveEditor({
      device,
      user: user.id,
      name,
      space: notice.space,
      ...(notice.path !== undefined ? { path: notice.path } : {}),
      ...(notice.top !== undefined ? { top: notice.top } : {}),
      ...(notice.following !== undefined ? { following: notice.following } : {}),
    });
  }

  private forget(device: string): void {
    for (const key of [...this.peers.keys()]) {
      if (this.forgetFile(device, key)) {
        const space = spaceOf(key);
        this.emitPeers(space, key.slice(space.length + 1));
      }
    }
    this.openCount.delete(device);
    this.forgetActive(device);
  }

  private forgetActive(device: string): void {
    const active = this.theirActive.get(device);
    if (!active) return;
    this.theirActive.delete(device);
    if (active.path === undefined && active.following === undefined) return;
    const member = this.options.directory.member(active.space, device);
    this.options.onActiveEditor({ device, user: member?.user.id ?? '', name: member?.user.name ?? '', space: active.space });
  }

  /** True when the device had announced the file. */
  private forgetFile(device: string, key: string): boolean {
    const there = this.peers.get(key);
    if (!there?.delete(device)) return false;
    if (there.size === 0) this.peers.delete(key);
    const count = (this.openCount.get(device) ?? 1) - 1;
    if (count > 0) this.openCount.set(device, count);
    else this.openCount.delete(device);
    return true;
  }

  private emitPeers(space: string, path: string): void {
    const there = this.peers.get(fileKey(space, path));
    const peers: CoeditPeerView[] = [];
    for (const [device, announced] of there ?? []) {
      const member = this.options.directory.member(space, device);
      if (!member) continue;
      peers.push({
        device,
        user: member.user.id,
        name: member.user.name,
        readOnly: member.role === 'reader',
        session: announced.session,
        live: announced.live,
        ...(announced.disk !== undefined ? { disk: announced.disk } : {}),
      });
    }
    this.options.onPeers(space, path, peers);
  }

  private sendActive(device: string): void {
    const { space, path, top, following } = this.myActive;
    if (space === undefined) return;
    this.sendTo(device, {
      t: 'active',
      space,
      ...(path !== undefined ? { path } : {}),
      ...(top !== undefined ? { top } : {}),
      ...(following !== undefined ? { following } : {}),
    });
  }

  private sendTo(device: string, notice: CoeditNotice): void {
    this.options.send(device, encodeNotice(notice));
  }

  private checkLocal(space: string, path: string): void {
    if (typeof space !== 'string' || !this.options.directory.joinedHere(space))
      throw new EngineError('usage', `space ${String(space)} is not joined on this device`);
    const problem = pathProblem(path);
    if (problem) throw new EngineError('usage', problem);
  }

  private logOnce(key: string, message: string): void {
    if (this.logged.has(key) || this.logged.size >= MAX_LOGGED) return;
    this.logged.add(key);
    this.options.log(message);
  }
}

/** Space ids are hex: the first `/` ends one. */
function fileKey(space: string, path: string): string {
  return `${space}/${path}`;
}

function spaceOf(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

/** This device's announcement of a file it has open. */
function openNotice(entry: OpenHere): Extract<CoeditNotice, { t: 'open' }> {
  const { space, path, session, live, disk } = entry;
  return { t: 'open', space, path, session, live, ...(disk !== undefined ? { disk } : {}) };
}
