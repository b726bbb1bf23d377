import type { ConflictView } from '../../node/engine/engine-protocol';

/**
 * The `shared-folders-conflict:` URIs that serve the versions of a conflicted file read-only: to
 * the diff editor the other side, to the merge editor both sides and their base. The path is the
 * file's or the copy's (so the editor picks the right language from its extension); the query
 * says which space, which conflicted file and which side.
 */
export const CONFLICT_SCHEME = 'shared-folders-conflict';

export interface ConflictUriParts {
  readonly path: string;
  readonly query: string;
}

/** Which version a URI serves: the conflict copy, the file at the conflicted path, or the version both started from. */
export type ConflictSide = 'copy' | 'file' | 'base';

export function conflictUriParts(conflict: ConflictView, side: ConflictSide = 'copy'): ConflictUriParts {
  const query = new URLSearchParams({ space: conflict.space, path: conflict.path, copy: conflict.copy, side }).toString();
  return { path: `/${side === 'copy' ? conflict.copy : conflict.path}`, query };
}

export function conflictSideFromUri(query: string): ConflictSide {
  const side = new URLSearchParams(query).get('side');
  return side === 'file' || side === 'base' ? side : 'copy';
}

export function conflictFromUri(query: string): ConflictView | undefined {
  const params = new URLSearchParams(query);
  const space = params.get('space');
  const path = params.get('path');
  const copy = params.get('copy');
  return space && path && copy ? { space, path, copy } : undefined;
}
