import type { ContactView, EngineStatus, PendingContactView } from '../../node/engine/engine-protocol';
import type { Localizer } from '../app/localizer';
import { presenceIcon, presenceText } from '../trees/presence-icon';
import type { TreeNode } from '../trees/tree-node';

/** The rows of the Contacts view: pending contact requests first (they wait for an answer), then contacts by name. */
export function contactNodes(status: EngineStatus | undefined, l10n: Localizer): TreeNode[] {
  if (!status?.identity) return [];
  const pending = status.pendingContacts.map((p) => pendingContactNode(p, l10n));
  const contacts = [...status.contacts]
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map((c) => contactNode(c, status.connected, l10n));
  return [...pending, ...contacts];
}

/**
 * The line above the contacts while the server cannot be reached: the list is the last known one,
 * and the engine keeps trying. Undefined while connected (or before there is an identity).
 */
export function offlineMessage(status: EngineStatus | undefined, l10n: Localizer): string | undefined {
  if (!status?.identity || status.connected) return undefined;
  return status.serverProblem !== undefined
    ? l10n.t('The server is unreachable ({0}); retrying. Showing what is known.', status.serverProblem)
    : l10n.t('Not connected to the server; retrying. Showing what is known.');
}

function contactNode(contact: ContactView, connected: boolean, l10n: Localizer): TreeNode {
  const fingerprints =
    contact.fingerprints.length > 0 ? contact.fingerprints.map((f) => `  ${f}`).join('\n') : `  ${l10n.t('(no devices yet)')}`;
  // Without the server nobody's presence is known: say so rather than "offline".
  const presence = connected ? presenceText(contact.presence, l10n) : l10n.t('offline — last known');
  return {
    id: `contact:${contact.id}`,
    ref: { kind: 'contact', user: contact.id },
    label: contact.name,
    description: presence,
    tooltip: `${contact.name} (${presence})\n${l10n.t('Device fingerprints:')}\n${fingerprints}`,
    icon: connected ? presenceIcon(contact.presence) : { id: 'debug-disconnect', color: 'disabledForeground' },
    contextValue: `contact ${contact.presence}`,
  };
}

function pendingContactNode(pending: PendingContactView, l10n: Localizer): TreeNode {
  return {
    id: `pendingContact:${pending.code}`,
    ref: { kind: 'pendingContact', code: pending.code },
    label: l10n.t('Contact request {0}', pending.fingerprint),
    description: l10n.t('pending'),
    tooltip: l10n.t(
      'An invite code waiting for your answer.\nFingerprint: {0}\nServer: {1}\nCompare the fingerprint with your contact before accepting.',
      pending.fingerprint,
      pending.server,
    ),
    icon: { id: 'person-add', color: 'charts.blue' },
    contextValue: 'pendingContact',
  };
}
