/**
 * Space-relative paths (always `/`-separated) against the local folders that hold them. Plain
 * string work, no `path` module, so that Windows and POSIX folders both come out right and the
 * functions stay testable anywhere.
 */
import type { SpaceView } from '../../node/engine/engine-protocol';

export function joinSpacePath(root: string, relative: string): string {
  const separator = root.includes('\\') && !root.includes('/') ? '\\' : '/';
  const trimmed = root.endsWith('/') || root.endsWith('\\') ? root.slice(0, -1) : root;
  return relative === '' ? trimmed : trimmed + separator + relative.split('/').join(separator);
}

/** The space holding an absolute path and the path relative to it, or undefined when no space does. */
export function locateInSpaces(absolute: string, spaces: readonly SpaceView[]): { space: SpaceView; path: string } | undefined {
  const normal = normalise(absolute);
  let best: { space: SpaceView; path: string } | undefined;
  for (const space of spaces) {
    const root = normalise(space.path).replace(/\/$/, '');
    if (normal === root || normal.startsWith(root + '/')) {
      const path = normal.slice(root.length + 1);
      if (!best || best.space.path.length < space.path.length) best = { space, path };
    }
  }
  return best;
}

function normalise(p: string): string {
  return p.replace(/\\/g, '/');
}
