import type { ConflictView } from '../../node/engine/engine-protocol';
import { conflictUserLabel, parseConflictCopyPath } from '../../sync/model/conflict';

/**
 * Which side of a conflict is the user's. The engine keeps the winner of its total order at the
 * file's path and the loser in the conflict copy, whoever wrote them; the copy's name carries
 * its author. So when this user's edit lost, "mine" is the copy, and the diff and the choices
 * are turned around for them: the engine's choices mean "keep the file" (mine) and "take the
 * copy" (theirs).
 */
export interface ConflictSides {
  /** The conflict copy holds this user's version. */
  readonly copyIsMine: boolean;
  /** The author label of the other version, for titles; undefined when unknown. */
  readonly otherAuthor: string | undefined;
}

export type UserChoice = 'keepMine' | 'takeTheirs' | 'keepBoth';

export function conflictSides(conflict: ConflictView, myName: string | undefined): ConflictSides {
  const copyAuthor = parseConflictCopyPath(conflict.copy)?.user;
  const copyIsMine = copyAuthor !== undefined && myName !== undefined && copyAuthor === conflictUserLabel(myName);
  return { copyIsMine, otherAuthor: copyIsMine ? undefined : copyAuthor };
}

/** The engine's choice for what the user picked. */
export function engineChoice(choice: UserChoice, sides: ConflictSides): 'mine' | 'theirs' | 'both' {
  switch (choice) {
    case 'keepBoth':
      return 'both';
    case 'keepMine':
      return sides.copyIsMine ? 'theirs' : 'mine';
    case 'takeTheirs':
      return sides.copyIsMine ? 'mine' : 'theirs';
  }
}
