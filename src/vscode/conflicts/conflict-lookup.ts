import type { ConflictView, EngineStatus } from '../../node/engine/engine-protocol';
import { locateInSpaces } from '../app/space-paths';

/** Every open conflict the status lists, across spaces. */
export function allConflicts(status: EngineStatus | undefined): ConflictView[] {
  return (status?.spaces ?? []).flatMap((s) => s.conflicts);
}

/** The open conflict a file on disk belongs to, as the conflicted file or as its copy; the oldest copy first. */
export function conflictOfFile(status: EngineStatus | undefined, absolutePath: string): ConflictView | undefined {
  const found = locateInSpaces(absolutePath, status?.spaces ?? []);
  if (!found) return undefined;
  return found.space.conflicts.find((c) => c.path === found.path || c.copy === found.path);
}

/** The conflict as the status lists it now (with its authors and base), or undefined once it is resolved. */
export function currentConflict(
  status: EngineStatus | undefined,
  ref: { space: string; path: string; copy?: string },
): ConflictView | undefined {
  return status?.spaces
    .find((s) => s.id === ref.space)
    ?.conflicts.find((c) => c.path === ref.path && (ref.copy === undefined || c.copy === ref.copy));
}

/** One key per conflict: a file may have several, one per copy. */
export function conflictKey(conflict: { space: string; copy: string }): string {
  return `${conflict.space}\u0000${conflict.copy}`;
}
