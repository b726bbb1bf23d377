import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as tls from 'node:tls';

/** Names the environment variable that gives a private CA when no `--ca` or setting does. */
export const CA_VARIABLE = 'SHARED_FOLDERS_CA';

/** A CA file that cannot be used: missing, unreadable, or holding no certificate. */
export class CaFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaFileError';
  }
}

/**
 * The certificate authorities a device trusts for wss://: Node's usual store (the public
 * authorities, plus NODE_EXTRA_CA_CERTS) and, with `caFile`, the PEM certificates in that file:
 * a private CA for a server of one's own. Read at each connection, so a renewed file counts.
 */
export function trustedAuthorities(caFile: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(caFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CaFileError(
      code === 'ENOENT'
        ? `the CA file ${caFile} does not exist: check the path`
        : `the CA file ${caFile} cannot be read (${code ?? (err as Error).message}): check the path and its permissions`,
    );
  }
  const certificates = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  for (const pem of certificates) {
    try {
      new crypto.X509Certificate(pem);
    } catch {
      throw new CaFileError(`the CA file ${caFile} holds a certificate that cannot be read: give the CA's PEM certificate`);
    }
  }
  if (certificates.length === 0)
    throw new CaFileError(`the CA file ${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA's certificate`);
  return [...defaultAuthorities(), ...certificates];
}

/** Giving `ca` replaces Node's store, so the defaults are passed along with the file's certificates. */
function defaultAuthorities(): readonly string[] {
  const getter = (tls as { getCACertificates?: (which: string) => string[] }).getCACertificates;
  if (getter) return getter('default');
  const extra = process.env['NODE_EXTRA_CA_CERTS'];
  let extras: string[] = [];
  if (extra) {
    try {
      extras = fs.readFileSync(extra, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    } catch {
      // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS at start-up.
    }
  }
  return [...tls.rootCertificates, ...extras];
}
