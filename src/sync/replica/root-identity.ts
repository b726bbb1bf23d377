import type { RootIdentity } from '../ports/ports';
import type { Random } from '../ports/random';

/**
 * What a replica does with its state and the folder in front of it:
 * - `same`: the marker carries the root the state recorded; sync as usual.
 * - `claim`: the state holds nothing yet, so it fits any folder: the replica gives the folder a
 *   new root identity and records it.
 * - `reRoot`: the state belongs to another folder (the marker has no identity, or another one):
 *   the state is never applied; the replica starts over with a fresh state, so what is on this
 *   disk is new local files and what peers have flows in. Nothing becomes a delete.
 * - `foreignSpace`: the folder belongs to another shared folder; the replica does not open.
 */
export type RootDecision =
  | { readonly kind: 'same' }
  | { readonly kind: 'claim' }
  | { readonly kind: 'reRoot'; readonly reason: 'noIdentity' | 'foreignMarker' }
  | { readonly kind: 'foreignSpace'; readonly other: string };

/**
 * `fresh`: the state holds no records and nothing pending (or there is none); `stateRoot`: the root
 * it recorded; `space`: the space being opened, when the host says.
 */
export function decideRoot(
  marker: RootIdentity | undefined,
  state: { readonly fresh: boolean; readonly rootId?: string | undefined },
  space: string | undefined,
): RootDecision {
  if (marker && marker.space !== '' && space !== undefined && space !== '' && marker.space !== space) {
    return { kind: 'foreignSpace', other: marker.space };
  }
  const root = marker?.root ?? '';
  if (root !== '' && root === state.rootId) return { kind: 'same' };
  if (state.fresh) return { kind: 'claim' };
  return { kind: 'reRoot', reason: root === '' ? 'noIdentity' : 'foreignMarker' };
}

/** The folder holds another shared folder's marker: its replica is not opened there. */
export class ForeignSpaceError extends Error {
  constructor(
    /** The space that was to be opened. */
    readonly space: string,
    /** The space the folder's marker names. */
    readonly other: string,
  ) {
    super(`the folder belongs to another shared folder (space ${other})`);
    this.name = 'ForeignSpaceError';
  }
}

/** 128 random bits in hex. */
export function newRootId(random: Random): string {
  let id = '';
  for (let i = 0; i < 4; i++) id += random.nextUint32().toString(16).padStart(8, '0');
  return id;
}
