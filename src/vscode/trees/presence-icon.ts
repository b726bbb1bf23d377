import type { Presence } from '../../sync/protocol/rendezvous';
import type { Localizer } from '../app/localizer';
import type { TreeIcon } from './tree-node';

/** Filled green, filled yellow, hollow grey: readable in every theme and without colour. */
export function presenceIcon(presence: Presence): TreeIcon {
  switch (presence) {
    case 'online':
      return { id: 'circle-filled', color: 'charts.green' };
    case 'away':
      return { id: 'clock', color: 'charts.yellow' };
    case 'offline':
      return { id: 'circle-outline', color: 'disabledForeground' };
  }
}

export function presenceText(presence: Presence, l10n: Localizer): string {
  switch (presence) {
    case 'online':
      return l10n.t('online');
    case 'away':
      return l10n.t('away');
    case 'offline':
      return l10n.t('offline');
  }
}
