import type { EngineStatus } from '../../node/engine/engine-protocol';
import type { Localizer } from './localizer';

export type SummaryKind = 'starting' | 'restricted' | 'notSetUp' | 'offline' | 'conflicts' | 'error' | 'syncing' | 'paused' | 'inSync';

/** What the status bar item shows: one state for all spaces, the most pressing first. */
export interface StatusSummary {
  readonly kind: SummaryKind;
  /** With a `$(codicon)` prefix, as status bar texts take it. */
  readonly text: string;
  readonly tooltip: string;
  /** Whether the item should stand out (warning background). */
  readonly warning: boolean;
}

export interface SummaryInput {
  readonly status: EngineStatus | undefined;
  readonly trusted: boolean;
  readonly hasIdentity: boolean;
}

export function summarize({ status, trusted, hasIdentity }: SummaryInput, l10n: Localizer): StatusSummary {
  if (!trusted)
    return {
      kind: 'restricted',
      text: `$(shield) ${l10n.t('Shared Folders: off')}`,
      tooltip: l10n.t('Sync is off in Restricted Mode. Trust this workspace to sync.'),
      warning: false,
    };
  if (!status) {
    return hasIdentity
      ? { kind: 'starting', text: `$(loading~spin) ${l10n.t('Shared Folders')}`, tooltip: l10n.t('Starting sync…'), warning: false }
      : {
          kind: 'notSetUp',
          text: `$(account) ${l10n.t('Shared Folders: Set Up')}`,
          tooltip: l10n.t('Set up Shared Folders to share folders with contacts'),
          warning: false,
        };
  }
  if (!status.identity)
    return {
      kind: 'notSetUp',
      text: `$(account) ${l10n.t('Shared Folders: Set Up')}`,
      tooltip: l10n.t('Set up Shared Folders to share folders with contacts'),
      warning: false,
    };

  const spaces = status.spaces;
  const conflicts = spaces.reduce((n, s) => n + s.conflicts.length, 0);
  const errors = spaces.filter((s) => s.state.kind === 'error');
  const syncingFiles = spaces.reduce((n, s) => n + (s.state.kind === 'syncing' ? s.state.files : 0), 0);
  const syncing = spaces.some((s) => s.state.kind === 'syncing');
  const massDelete = spaces.filter((s) => s.state.kind === 'paused' && s.state.reason === 'massDelete');
  const folders = spaces.length === 1 ? l10n.t('1 shared folder') : l10n.t('{0} shared folders', spaces.length);

  if (!status.connected) {
    return {
      kind: 'offline',
      text: `$(debug-disconnect) ${l10n.t('Offline')}`,
      tooltip:
        status.serverProblem !== undefined
          ? l10n.t(
              'Cannot reach {0}: {1}. Retrying; changes are kept and sent when the connection is back.',
              status.identity.server,
              status.serverProblem,
            )
          : l10n.t('Not connected to {0}. Changes are kept and sent when the connection is back.', status.identity.server),
      warning: false,
    };
  }
  if (conflicts > 0) {
    return {
      kind: 'conflicts',
      text: `$(warning) ${conflicts === 1 ? l10n.t('1 conflict') : l10n.t('{0} conflicts', conflicts)}`,
      tooltip: l10n.t('Files changed on two devices at once. Click to resolve.'),
      warning: true,
    };
  }
  if (errors.length > 0 || massDelete.length > 0) {
    const first = errors[0];
    const message =
      first && first.state.kind === 'error'
        ? first.state.message
        : l10n.t('{0} paused: many files were deleted', massDelete[0]?.name ?? '');
    return { kind: 'error', text: `$(error) ${l10n.t('Sync problem')}`, tooltip: message, warning: true };
  }
  if (syncing) {
    return {
      kind: 'syncing',
      text: `$(sync~spin) ${syncingFiles === 1 ? l10n.t('Syncing 1 file') : l10n.t('Syncing {0} files', syncingFiles)}`,
      tooltip: folders,
      warning: false,
    };
  }
  if (spaces.length > 0 && spaces.every((s) => s.state.kind === 'paused')) {
    return {
      kind: 'paused',
      text: `$(debug-pause) ${l10n.t('Paused')}`,
      tooltip: l10n.t('Sync is paused for every shared folder'),
      warning: false,
    };
  }
  return { kind: 'inSync', text: `$(check) ${l10n.t('In sync')}`, tooltip: `${l10n.t('Shared Folders')}: ${folders}`, warning: false };
}
