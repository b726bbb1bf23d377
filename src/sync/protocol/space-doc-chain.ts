import { mayChangeSpace, spaceDocSigningBytes, type SpaceDoc } from './rendezvous';

/**
 * Whether a device accepts a version of a space document that the server shows it, given the
 * last version it accepted (docs/PROTOCOL.md R3, "What a device accepts"). The server checked
 * the same rule when it stored the version, but a device does not take the server's word for
 * who may read or write its folder: a server that rewrote its store could otherwise promote a
 * reader or add a member of its own.
 *
 * Pure: the caller finds the author device's user and key (among the devices it trusts) and
 * passes the signature check in.
 */

export type SpaceDocFault = 'rollback' | 'forked' | 'unknownAuthor' | 'badSignature' | 'notAllowed';

export type SpaceDocVerdict = { readonly ok: true } | { readonly ok: false; readonly fault: SpaceDocFault; readonly reason: string };

/** The device that signed a version, as the receiving device trusts it: its user and key. */
export interface SpaceDocSigner {
  readonly user: string;
  /** The user's name, for the reason given when the version is refused; the id without it. */
  readonly name?: string;
  /** Raw Ed25519 public key, hex. */
  readonly signPublic: string;
}

/** Checks an Ed25519 signature; public key and signature in hex. */
export type VerifySignature = (signPublic: string, message: Uint8Array, signature: string) => boolean;

export function checkSpaceDoc(
  accepted: SpaceDoc | undefined,
  next: SpaceDoc,
  signer: SpaceDocSigner | undefined,
  verify: VerifySignature,
): SpaceDocVerdict {
  if (accepted && accepted.id !== next.id) return refuse('notAllowed', `it is for space ${next.id}, not ${accepted.id}`);
  if (accepted && next.version < accepted.version)
    return refuse('rollback', `version ${next.version} is older than version ${accepted.version}, which this device already accepted`);
  if (accepted && next.version === accepted.version) {
    // The home holds the accepted version; it was checked when it was accepted.
    return sameDoc(accepted, next)
      ? { ok: true }
      : refuse('forked', `it differs from the version ${accepted.version} this device accepted`);
  }
  if (!signer) return refuse('unknownAuthor', `its author ${next.author} is not a device this device trusts`);
  const { signature, ...unsigned } = next;
  if (!verify(signer.signPublic, spaceDocSigningBytes(unsigned), signature))
    return refuse('badSignature', `its signature does not verify with the key of its author ${next.author}`);
  if (!accepted) {
    // First sight: nothing to chain from, so the author must hold a role that could have written it.
    const role = next.members.find((m) => m.user === signer.user)?.role;
    return role === 'owner' || (role === 'editor' && next.kind === 'group')
      ? { ok: true }
      : refuse('notAllowed', `its author ${signer.name ?? signer.user} is not an owner${next.kind === 'group' ? ' or editor' : ''} in it`);
  }
  // Versions between the accepted one and this one may never have been shown to this device;
  // the change is judged as if it followed the accepted version directly.
  const base = next.version === accepted.version + 1 ? accepted : { ...accepted, version: next.version - 1 };
  return mayChangeSpace(base, next, signer.user)
    ? { ok: true }
    : refuse('notAllowed', `its author ${signer.name ?? signer.user} may not make this change to version ${accepted.version}`);
}

function sameDoc(a: SpaceDoc, b: SpaceDoc): boolean {
  const bytes = (d: SpaceDoc): string => new TextDecoder().decode(spaceDocSigningBytes(d)) + '\n' + d.signature;
  return bytes(a) === bytes(b);
}

function refuse(fault: SpaceDocFault, reason: string): SpaceDocVerdict {
  return { ok: false, fault, reason };
}
