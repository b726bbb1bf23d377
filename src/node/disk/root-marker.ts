import { isHexId } from '../../sync/util/hex-id';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { RootIdentity } from '../../sync/ports/ports';
import { errnoOf } from './disk-errors';
import { replaceFile } from './durable-write';

/** The replica's own folder inside the shared folder: its presence is the root marker. */
export const MARKER_DIR = '.shared-folder';
/** The marker's identity (RootIdentity): which space the folder belongs to, and which root it is. */
export const ROOT_FILE = `${MARKER_DIR}/root.json`;

/**
 * The identity in a folder's marker; undefined when there is none (a marker made before the
 * first open, or by an older version) or it cannot be read as one.
 */
export async function readRootIdentity(root: string): Promise<RootIdentity | undefined> {
  let text: string;
  try {
    text = await fs.promises.readFile(rootFile(root), 'utf8');
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as { space?: unknown; root?: unknown };
    const space = typeof parsed.space === 'string' ? parsed.space : '';
    const id = isHexId(parsed.root) ? parsed.root : '';
    return space === '' && id === '' ? undefined : { space, root: id };
  } catch {
    // A torn or edited file names no root: the state then never applies to this folder.
    return undefined;
  }
}

/** Replaces the marker's identity whole and durably: a crash leaves the old file or the new one. */
export async function writeRootIdentity(root: string, identity: RootIdentity): Promise<void> {
  await fs.promises.mkdir(nodePath.join(root, MARKER_DIR), { recursive: true });
  const text = JSON.stringify({ space: identity.space, root: identity.root }) + '\n';
  await replaceFile(rootFile(root), new TextEncoder().encode(text), { durability: 'file-and-folder' });
}

function rootFile(root: string): string {
  return nodePath.join(root, ...ROOT_FILE.split('/'));
}
