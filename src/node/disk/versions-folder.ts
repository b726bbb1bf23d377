import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { splitExtension } from '../../sync/model/path';
import type { Clock } from '../../sync/ports/clock';
import { errnoOf } from './disk-errors';

const STAMP = /~(\d{8})-(\d{6})(?:~\d+)?(\.[^.]*)?$/;

/** The longest name ext4, APFS and NTFS all hold, in UTF-8 bytes (a synced name may be this long). */
const MAX_NAME_BYTES = 255;
/** What a version's name adds to its file's: `~yyyymmdd-hhmmss`, and `~n` for n up to 999. */
const STAMP_BYTES = 16 + 4;
/** An extension longer than this is not kept apart when a name is shortened: it is part of the stem. */
const MAX_KEPT_EXT_BYTES = 32;
/** Hex digits of SHA-256 of the whole name that set a shortened stem apart from any other. */
const NAME_HASH_CHARS = 16;

/**
 * Old versions of files, kept inside the folder's own `.shared-folder/versions/`, at their path
 * with the time they were replaced: `notes~20261122-143005.txt` (UTC). Pruned after some days.
 * A name too long to take the stamp is shortened first (versionName): its stem cut to fit, then
 * `#` and 16 hex digits of the whole name's SHA-256, so two long names never share versions.
 */
export class VersionsFolder {
  constructor(
    readonly dir: string,
    private readonly clock: Clock,
  ) {}

  /** Keeps what is at `abs` as a version and leaves it in place: a hard link, or a copy where links are not possible. */
  async keepCopy(path: string, abs: string): Promise<string> {
    return this.place(path, async (target) => {
      try {
        await fs.promises.link(abs, target);
      } catch (err) {
        if (errnoOf(err) === 'EEXIST') throw err;
        await fs.promises.copyFile(abs, target, fs.constants.COPYFILE_EXCL);
      }
    });
  }

  /** Moves what is at `abs` into the versions: a removal that keeps the bytes. */
  async moveIn(path: string, abs: string): Promise<string> {
    return this.place(path, async (target) => {
      // link + unlink, because a rename would silently replace an older version of the same name.
      try {
        await fs.promises.link(abs, target);
      } catch (err) {
        if (errnoOf(err) === 'EEXIST') throw err;
        if (fs.existsSync(target)) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        await fs.promises.rename(abs, target);
        return;
      }
      await fs.promises.unlink(abs);
    });
  }

  /** Every kept version of `path`, oldest first. */
  async of(path: string): Promise<string[]> {
    const { dir, stem, ext } = this.parts(path);
    let names: string[];
    try {
      names = await fs.promises.readdir(dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.startsWith(`${stem}~`) && STAMP.test(n) && (STAMP.exec(n)![3] ?? '') === ext)
      .sort()
      .map((n) => nodePath.join(dir, n));
  }

  /**
   * The first version of `path` kept at or after `since` (ms; names keep whole seconds): what the
   * file held before the first replacement from then on. Among versions of that second and
   * later, the one that is a link to `inode` wins, since a version made by `keepCopy` or
   * `moveIn` shares the replaced file's inode where links are possible.
   */
  async replacedSince(path: string, since: number, inode?: number): Promise<string | undefined> {
    const floor = Math.floor(since / 1000) * 1000;
    const candidates = (await this.of(path)).filter((file) => (stampTime(nodePath.basename(file)) ?? -1) >= floor);
    if (inode !== undefined) {
      for (const file of candidates) {
        const stat = await fs.promises.stat(file).catch(() => undefined);
        if (stat?.ino === inode) return file;
      }
    }
    return candidates[0];
  }

  /** Removes versions older than `days`, judged by the time in their names, and folders left empty. */
  async prune(days: number): Promise<number> {
    const cutoff = this.clock.now() - days * 86_400_000;
    let removed = 0;
    const visit = async (dir: string): Promise<boolean> => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch {
        return false;
      }
      let left = entries.length;
      for (const e of entries) {
        const abs = nodePath.join(dir, e.name);
        if (e.isDirectory()) {
          if (await visit(abs)) left--;
          continue;
        }
        const stamp = stampTime(e.name);
        if (stamp !== undefined && stamp < cutoff) {
          await fs.promises.rm(abs, { force: true });
          removed++;
          left--;
        }
      }
      if (left === 0 && dir !== this.dir) {
        await fs.promises.rmdir(dir).catch(() => undefined);
        return true;
      }
      return false;
    };
    await visit(this.dir);
    return removed;
  }

  private async place(path: string, put: (target: string) => Promise<void>): Promise<string> {
    const { dir, stem, ext } = this.parts(path);
    await fs.promises.mkdir(dir, { recursive: true });
    const base = `${stem}~${formatStamp(this.clock.now())}`;
    for (let n = 1; n < 1000; n++) {
      const target = nodePath.join(dir, `${n === 1 ? base : `${base}~${n}`}${ext}`);
      try {
        await put(target);
        return target;
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
      }
    }
    throw new Error(`too many versions of ${path} within one second`);
  }

  private parts(path: string): { dir: string; stem: string; ext: string } {
    const segments = path.split('/');
    const { stem, ext } = versionName(segments.pop()!);
    return { dir: nodePath.join(this.dir, ...segments), stem, ext };
  }
}

/**
 * The stem and extension a file's versions are named from: the name's own, or, when the stamp
 * would make the name longer than a file system holds, a stem cut at a character boundary and
 * marked with a hash of the whole name (deterministic, so `of` finds them again).
 */
export function versionName(name: string): { stem: string; ext: string } {
  const split = splitExtension(name);
  if (byteLength(name) + STAMP_BYTES <= MAX_NAME_BYTES) return split;
  const ext = byteLength(split.ext) <= MAX_KEPT_EXT_BYTES ? split.ext : '';
  const stem = ext === '' ? name : split.stem;
  const hash = crypto.createHash('sha256').update(name, 'utf8').digest('hex').slice(0, NAME_HASH_CHARS);
  const room = MAX_NAME_BYTES - STAMP_BYTES - byteLength(ext) - 1 - NAME_HASH_CHARS;
  return { stem: `${cutToBytes(stem, room)}#${hash}`, ext };
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The longest prefix of `text` within `bytes` UTF-8 bytes that ends on a whole character. */
function cutToBytes(text: string, bytes: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    used += byteLength(char);
    if (used > bytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

function formatStamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}

function stampTime(name: string): number | undefined {
  const m = STAMP.exec(name);
  if (!m) return undefined;
  const [date, time] = [m[1]!, m[2]!];
  return Date.UTC(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8), +time.slice(0, 2), +time.slice(2, 4), +time.slice(4, 6));
}
