import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { splitExtension } from '../../sync/model/path';
import type { Clock } from '../../sync/ports/clock';
import { errnoOf } from './disk-errors';

const STAMP = /~(\d{8})-(\d{6})(?:~\d+)?(\.[^.]*)?$/;

/**
 * Old versions of files, kept inside the folder's own `.shared-folder/versions/`, at their path
 * with the time they were replaced: `notes~20261122-143005.txt` (UTC). Pruned after some days.
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
    const { stem, ext } = splitExtension(segments.pop()!);
    return { dir: nodePath.join(this.dir, ...segments), stem, ext };
  }
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
