import type { ActiveEditorView } from '../../node/engine/engine-protocol';

/**
 * The editor to follow for `user`, who may have several devices: the one whose notice came last.
 * A device that closed its editor (no path) counts too: it is where the user went last.
 */
export function latestEditorOf<T extends ActiveEditorView & { readonly at: number }>(views: readonly T[], user: string): T | undefined {
  let best: T | undefined;
  for (const v of views) if (v.user === user && (!best || v.at > best.at)) best = v;
  return best;
}
