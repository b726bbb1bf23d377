import type { ConflictView } from '../node/engine-protocol';
import { conflictUserLabel, parseConflictCopyPath } from '../sync/conflict';

export type ConflictChoice = 'mine' | 'theirs' | 'both';

/**
 * Whether the conflict copy holds this user's own version. The engine keeps one version as the
 * file (chosen by an order every replica computes alike) and the other as the copy, named after
 * its author; so on half of the devices the copy is the user's own edit. The engine's
 * `resolveConflict` speaks of the file ('mine': keep it) and the copy ('theirs': it replaces the
 * file); the UI speaks of authors, and translates.
 */
export function copyIsMine(conflict: ConflictView, myName: string | undefined): boolean {
  if (myName === undefined) return false;
  const parsed = parseConflictCopyPath(conflict.copy);
  return parsed !== undefined && parsed.user === conflictUserLabel(myName);
}

/** The engine's choice for what the user picked: Keep Mine keeps the copy when the copy is theirs to keep. */
export function engineChoice(choice: ConflictChoice, mineIsCopy: boolean): ConflictChoice {
  if (!mineIsCopy || choice === 'both') return choice;
  return choice === 'mine' ? 'theirs' : 'mine';
}
