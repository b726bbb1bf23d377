import type { ConflictAuthorView, ConflictView } from '../../node/engine/engine-protocol';
import type { Localizer } from '../app/localizer';
import { conflictSides } from './conflict-sides';

/** A side of a conflict as the merge editor titles it: whose it is, and when it was changed. */
export interface SideLabel {
  readonly title: string;
  readonly description: string;
}

/** Formats a time (ms since the epoch) for people. */
export type TimeFormat = (at: number) => string;

/** Date and time in `locale` (VS Code's display language) and this machine's time zone. */
export function timeFormat(locale: string): TimeFormat {
  const options = { dateStyle: 'medium', timeStyle: 'short' } as const;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat(locale, options);
  } catch {
    // A language tag Intl does not know: the machine's own locale.
    format = new Intl.DateTimeFormat(undefined, options);
  }
  return (at) => format.format(new Date(at));
}

/**
 * Who made each side and when. Input 1 of the merge editor is theirs, input 2 the user's own
 * (`myName`'s); when neither side is the user's (a third member's edit won), both read "Theirs".
 */
export function sideLabels(
  conflict: ConflictView,
  myName: string | undefined,
  l10n: Localizer,
  time: TimeFormat,
): { theirs: SideLabel; mine: SideLabel } {
  const { theirs, mine } = authors(conflict, myName);
  const other = theirs?.name ?? conflictSides(conflict, myName).otherAuthor ?? l10n.t('another device');
  const mineTitle =
    mine && mine.name !== myName ? l10n.t('Theirs ({0})', mine.name) : myName ? l10n.t('Yours ({0})', myName) : l10n.t('Yours');
  return {
    theirs: { title: l10n.t('Theirs ({0})', other), description: changedAt(theirs, l10n, time) },
    mine: { title: mineTitle, description: changedAt(mine, l10n, time) },
  };
}

/** The Explorer's tooltip for a conflicted file: who changed it on each side, and when. */
export function conflictTooltip(conflict: ConflictView, myName: string | undefined, l10n: Localizer, time: TimeFormat): string {
  const { theirs, mine } = authors(conflict, myName);
  if (!theirs || !mine) return l10n.t('Conflict: changed on two devices');
  if (theirs.name === mine.name) {
    const [first, second] = [theirs.at, mine.at].sort((x, y) => x - y);
    return l10n.t('Conflict: {0} changed it on two devices, at {1} and at {2}', theirs.name, time(first!), time(second!));
  }
  if (mine.name === myName)
    return l10n.t('Conflict: {0} changed it at {1}; you changed it at {2}', theirs.name, time(theirs.at), time(mine.at));
  return l10n.t('Conflict: {0} changed it at {1}; {2} changed it at {3}', theirs.name, time(theirs.at), mine.name, time(mine.at));
}

function authors(conflict: ConflictView, myName: string | undefined): { theirs?: ConflictAuthorView; mine?: ConflictAuthorView } {
  const { copyIsMine } = conflictSides(conflict, myName);
  const theirs = copyIsMine ? conflict.fileAuthor : conflict.copyAuthor;
  const mine = copyIsMine ? conflict.copyAuthor : conflict.fileAuthor;
  return { ...(theirs ? { theirs } : {}), ...(mine ? { mine } : {}) };
}

function changedAt(author: ConflictAuthorView | undefined, l10n: Localizer, time: TimeFormat): string {
  return author ? l10n.t('changed {0}', time(author.at)) : '';
}
