import type { SyncStateView } from '../../node/engine/engine-protocol';
import type { Localizer } from '../app/localizer';
import type { TreeIcon } from '../trees/tree-node';

export function syncStateText(state: SyncStateView, l10n: Localizer): string {
  switch (state.kind) {
    case 'inSync':
      return l10n.t('in sync');
    case 'syncing':
      return state.files === 1 ? l10n.t('syncing 1 file') : l10n.t('syncing {0} files', state.files);
    case 'offline':
      return l10n.t('offline');
    case 'paused':
      return state.reason === 'massDelete' ? l10n.t('paused: many files deleted, check and resume') : l10n.t('paused');
    case 'error':
      return l10n.t('error: {0}', state.message);
  }
}

export function syncStateIcon(state: SyncStateView): TreeIcon {
  switch (state.kind) {
    case 'inSync':
      return { id: 'check', color: 'charts.green' };
    case 'syncing':
      return { id: 'sync~spin' };
    case 'offline':
      return { id: 'debug-disconnect', color: 'disabledForeground' };
    case 'paused':
      return state.reason === 'massDelete' ? { id: 'debug-pause', color: 'list.warningForeground' } : { id: 'debug-pause' };
    case 'error':
      return { id: 'error', color: 'list.errorForeground' };
  }
}
