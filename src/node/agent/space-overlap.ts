import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { MARKER_DIR } from '../disk/disk-store';
import { AccountError, FolderNotEmptyError } from './account-error';
import type { DeviceHome } from './device-home';

/**
 * Shared folders never nest: one file synced by two spaces would be two replicas' business at
 * once, and a folder joined over another one's files would mix them unasked. These checks run
 * before share and join change anything, on real paths (symbolic links resolved), against this
 * home's spaces and the `.shared-folder` markers on disk.
 */

/** How many folders the look for markers below a folder visits at most: a share of a huge tree stays quick. */
const MAX_FOLDERS_BELOW = 5_000;

/** What a join does with the folder it was given. */
export type JoinPlan =
  /** The space already syncs into this folder: nothing to do. */
  | { readonly kind: 'same' }
  /** A new replica here; `created` when the folder does not exist yet. */
  | { readonly kind: 'new'; readonly created: boolean }
  /** The space syncs into `from` on this device: its folder moves here. */
  | { readonly kind: 'move'; readonly from: string }
  /** The user already moved the folder here (its old place is gone, this one has a marker). */
  | { readonly kind: 'moved' };

/** Refuses a folder to share that is shared already, lies inside a shared folder, or holds one. */
export function checkShareTarget(home: DeviceHome, path: string): void {
  const real = realPath(path);
  for (const other of localSpaces(home)) {
    if (other.real === real)
      throw new AccountError(`${path} is already shared as ${describe(home, other)}: there is nothing to share again`);
  }
  if (hasMarker(real))
    throw new AccountError(
      `${path} is already a shared folder (it has a ${MARKER_DIR} folder but this device syncs no space there): ` +
        `join its space instead, or if it is shared nowhere any more, move ${nodePath.join(path, MARKER_DIR)} out of it ` +
        `(it keeps old versions of its files) and share it again`,
    );
  checkNesting(home, path, real);
}

/** What joining `space` at `path` means here, or an error saying why it must not happen. */
export function planJoin(home: DeviceHome, space: string, path: string, merge: boolean): JoinPlan {
  const real = realPath(path);
  const current = localSpaces(home).find((s) => s.id === space);
  if (current?.real === real) return { kind: 'same' };
  for (const other of localSpaces(home)) {
    if (other.real === real) throw new AccountError(`${path} is already the shared folder ${describe(home, other)}: choose another folder`);
  }
  checkNesting(home, path, real);
  const stat = fs.statSync(real, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new AccountError(`${path} is a file, not a folder: choose a folder`);
  const entries = stat ? fs.readdirSync(real) : [];
  if (current) {
    if (!fs.existsSync(current.real) && entries.includes(MARKER_DIR)) return { kind: 'moved' };
    if (entries.length > 0)
      throw new AccountError(
        `${path} already has files: space ${space} syncs into ${current.path} on this device; ` +
          `to move it, choose a folder that does not exist yet or is empty`,
      );
    if (!fs.existsSync(current.real)) return { kind: 'new', created: !stat };
    return { kind: 'move', from: current.path };
  }
  if (entries.length > 0 && !merge)
    throw new FolderNotEmptyError(
      path,
      `${path} already has files: add --merge to merge them with the shared folder (conflicting files keep both versions), or choose an empty folder`,
    );
  return { kind: 'new', created: !stat };
}

/** A folder inside a shared folder (this home's or any with a marker), or holding one, is refused. */
function checkNesting(home: DeviceHome, path: string, real: string): void {
  for (const other of localSpaces(home)) {
    if (isInside(real, other.real))
      throw new AccountError(`${path} is inside the shared folder ${describe(home, other)}: choose a folder outside it`);
    if (isInside(other.real, real))
      throw new AccountError(
        `${path} contains the shared folder ${describe(home, other)} at ${other.path}: choose a folder that does not hold it`,
      );
  }
  // The home's keys and replica state must never sync (its folders/, where spaces of the user's other devices land, may).
  const homeDir = realPath(home.dir);
  if (homeDir === real || isInside(homeDir, real))
    throw new AccountError(`${path} holds this device's home ${home.dir}: choose a folder that does not hold it`);
  for (let dir = nodePath.dirname(real); ; dir = nodePath.dirname(dir)) {
    if (hasMarker(dir))
      throw new AccountError(`${path} is inside the shared folder "${nodePath.basename(dir)}" at ${dir}: choose a folder outside it`);
    if (nodePath.dirname(dir) === dir) break;
  }
  const below = markerBelow(real);
  if (below)
    throw new AccountError(
      `${path} contains the shared folder "${nodePath.basename(below)}" at ${below}: choose a folder that does not hold it`,
    );
}

interface Known {
  readonly id: string;
  readonly path: string;
  readonly real: string;
}

function localSpaces(home: DeviceHome): Known[] {
  return home.spaces().map((s) => ({ id: s.id, path: s.path, real: realPath(s.path) }));
}

/** `"docs" (space ID)`: the name its members know it by, else its folder's name here. */
function describe(home: DeviceHome, space: Known): string {
  return `"${home.spaceNames()[space.id] ?? nodePath.basename(space.path)}" (space ${space.id})`;
}

/** The path with every symbolic link resolved; a part that does not exist yet is kept as written. */
export function realPath(path: string): string {
  const abs = nodePath.resolve(path);
  try {
    return fs.realpathSync.native(abs);
  } catch {
    const parent = nodePath.dirname(abs);
    return parent === abs ? abs : nodePath.join(realPath(parent), nodePath.basename(abs));
  }
}

/** Strictly inside, by whole path segments: /x/docs/a is inside /x/docs, /x/docs2 is not. */
export function isInside(child: string, parent: string): boolean {
  const rel = nodePath.relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + nodePath.sep) && !nodePath.isAbsolute(rel);
}

function hasMarker(dir: string): boolean {
  return fs.statSync(nodePath.join(dir, MARKER_DIR), { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** A folder below `root` with a marker, looked for breadth first over a bounded number of folders; links are not followed. */
function markerBelow(root: string): string | undefined {
  const queue = [root];
  for (let visited = 0; queue.length > 0 && visited < MAX_FOLDERS_BELOW; visited++) {
    const dir = queue.shift()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || (dir === root && entry.name === MARKER_DIR)) continue;
      const child = nodePath.join(dir, entry.name);
      if (hasMarker(child)) return child;
      queue.push(child);
    }
  }
  return undefined;
}
