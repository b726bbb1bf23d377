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
    .map((c) => contactNode(c, l10n));
  return [...pending, ...contacts];
}

function contactNode(contact: ContactView, l10n: Localizer): TreeNode {
  const fingerprints =
    contact.fingerprints.length > 0 ? contact.fingerprints.map((f) => `  ${f}`).join('\n') : `  ${l10n.t('(no devices yet)')}`;
  return {
    id: `contact:${contact.id}`,
    ref: { kind: 'contact', user: contact.id },
    label: contact.name,
    description: presenceText(contact.presence, l10n),
    tooltip: `${contact.name} (${presenceText(contact.presence, l10n)})\n${l10n.t('Device fingerprints:')}\n${fingerprints}`,
    icon: presenceIcon(contact.presence),
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
