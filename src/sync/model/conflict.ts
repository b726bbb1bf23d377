import { compareBytes, compareStrings } from '../util/bytes';
import type { FileRecord } from './file-record';
import { baseName, parentOf, joinPath, splitExtension } from './path';
import { encodeVector } from './version-vector';

/**
 * The total order that picks a conflict's winner. Every replica evaluates it on the same two
 * records, so every replica picks the same winner; it never looks at who is evaluating it.
 * Directories beat everything (their children must keep a parent), any live entry beats a
 * tombstone (an edit concurrent with a delete survives), then the later modification wins.
 */
export function compareForWinner(a: FileRecord, b: FileRecord): number {
  return (
    typeRank(a) - typeRank(b) ||
    a.mtime - b.mtime ||
    compareStrings(a.modifiedBy, b.modifiedBy) ||
    compareBytes(a.hash, b.hash) ||
    Number(a.executable) - Number(b.executable) ||
    compareStrings(a.target, b.target) ||
    compareBytes(encodeVector(a.version), encodeVector(b.version)) ||
    a.size - b.size ||
    compareBytes(a.ancestor, b.ancestor)
  );
}

function typeRank(r: FileRecord): number {
  if (r.deleted) return 0;
  switch (r.type) {
    case 'symlink':
      return 1;
    case 'file':
      return 2;
    case 'directory':
      return 3;
  }
}

export function pickWinner(a: FileRecord, b: FileRecord): { winner: FileRecord; loser: FileRecord } {
  return compareForWinner(a, b) >= 0 ? { winner: a, loser: b } : { winner: b, loser: a };
}

const CONFLICT_MARK = '.conflict-';
const STAMP = /^(\d{8})-(\d{6})$/;

/** Keeps user names safe in file names on every platform, and short. */
export function conflictUserLabel(user: string): string {
  const label = user
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}_-]+/gu, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 32);
  return label.length > 0 ? label : 'unknown';
}

export function conflictStamp(mtimeMs: number): string {
  const d = new Date(Math.max(0, mtimeMs));
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${String(d.getUTCFullYear()).padStart(4, '0')}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-` +
    `${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`
  );
}

/**
 * `dir/name.conflict-<user>-<yyyymmdd-hhmmss>.ext`, from the losing version's author and time
 * (UTC), so every replica that detects the same conflict derives the same name.
 */
export function conflictCopyPath(loser: FileRecord): string {
  const { stem, ext } = splitExtension(baseName(loser.path));
  const name = `${stem}${CONFLICT_MARK}${conflictUserLabel(loser.modifiedBy)}-${conflictStamp(loser.mtime)}${ext}`;
  return joinPath(parentOf(loser.path), name);
}

/**
 * The loser's content under its conflict name. It keeps the loser's version vector, so replicas
 * that detect the same conflict independently create identical records instead of new conflicts.
 */
export function conflictCopyRecord(loser: FileRecord): FileRecord {
  return { ...loser, path: conflictCopyPath(loser), sequence: 0 };
}

export interface ConflictCopyName {
  /** The path the copy belongs to. */
  readonly original: string;
  readonly user: string;
  readonly stamp: string;
}

/** Recognises a conflict copy by its name, so every replica lists the same conflicts. */
export function parseConflictCopyPath(path: string): ConflictCopyName | undefined {
  const name = baseName(path);
  const mark = name.lastIndexOf(CONFLICT_MARK);
  if (mark <= 0) return undefined;
  const stem = name.slice(0, mark);
  const rest = name.slice(mark + CONFLICT_MARK.length);
  const m = /^(.+)-(\d{8}-\d{6})(\.[^.]*)?$/u.exec(rest);
  if (!m || !STAMP.test(m[2]!)) return undefined;
  return { original: joinPath(parentOf(path), stem + (m[3] ?? '')), user: m[1]!, stamp: m[2]! };
}
