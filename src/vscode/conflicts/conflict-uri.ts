import type { ConflictView } from '../../node/engine/engine-protocol';

/**
 * The `shared-folders-conflict:` URIs that serve the other version of a conflicted file to the
 * diff editor, read-only. The path is the conflict copy's (so the editor picks the right
 * language from its extension); the query says which space and which conflicted file it belongs to.
 */
export const CONFLICT_SCHEME = 'shared-folders-conflict';

export interface ConflictUriParts {
  readonly path: string;
  readonly query: string;
}

/** Which file a URI serves: the conflict copy, or the file at the conflicted path. */
export type ConflictSide = 'copy' | 'file';

export function conflictUriParts(conflict: ConflictView, side: ConflictSide = 'copy'): ConflictUriParts {
  const query = new URLSearchParams({ space: conflict.space, path: conflict.path, copy: conflict.copy, side }).toString();
  return { path: `/${side === 'copy' ? conflict.copy : conflict.path}`, query };
}

export function conflictSideFromUri(query: string): ConflictSide {
  return new URLSearchParams(query).get('side') === 'file' ? 'file' : 'copy';
}

export function conflictFromUri(query: string): ConflictView | undefined {
  const params = new URLSearchParams(query);
  const space = params.get('space');
  const path = params.get('path');
  const copy = params.get('copy');
  return space && path && copy ? { space, path, copy } : undefined;
}
