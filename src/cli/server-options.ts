import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { CliError, UsageError } from './cli-errors';
import { portNumber } from './cli-values';

/** Where `--metrics-host` serves /metrics when it names no port. */
export const DEFAULT_METRICS_PORT = 7071;

/** `HOST`, `HOST:PORT`, `[IPV6]` or `[IPV6]:PORT`, as `--metrics-host` takes it. */
export function hostAndPort(text: string, option: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  const [host, port] = bracketed
    ? [bracketed[1]!, bracketed[2]]
    : text.split(':').length === 2
      ? (text.split(':') as [string, string])
      : [text, undefined];
  if (host.trim() === '' || /\s/.test(host))
    throw new UsageError(`${option} ${text} is not an address: write it as HOST or HOST:PORT, such as 127.0.0.1:${defaultPort}`);
  return { host, port: port === undefined ? defaultPort : portNumber(port, option) };
}

/**
 * The certificate chain and key of `--tls-cert` / `--tls-key`, checked before listening so a
 * wrong file is named at once: missing, not PEM, expired, or a key that is not the certificate's.
 */
export function serverTls(
  certFile: string | undefined,
  keyFile: string | undefined,
  now = Date.now(),
): { cert: string; key: string } | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined) throw new UsageError('--tls-key needs --tls-cert FILE too: the certificate that goes with the key');
  if (keyFile === undefined) throw new UsageError('--tls-cert needs --tls-key FILE too: the private key of the certificate');
  const cert = readPem(certFile, '--tls-cert');
  const key = readPem(keyFile, '--tls-key');
  let leaf: crypto.X509Certificate;
  try {
    leaf = new crypto.X509Certificate(cert);
  } catch {
    throw new CliError(
      `--tls-cert ${certFile} is not a PEM certificate (-----BEGIN CERTIFICATE-----): give the server's certificate chain`,
    );
  }
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(key);
  } catch {
    throw new CliError(
      `--tls-key ${keyFile} is not a PEM private key (-----BEGIN PRIVATE KEY-----), or it is encrypted: give the unencrypted key`,
    );
  }
  if (!leaf.checkPrivateKey(privateKey))
    throw new CliError(`--tls-key ${keyFile} is not the key of --tls-cert ${certFile}: give the key the certificate was made for`);
  if (Date.parse(leaf.validTo) < now)
    throw new CliError(`--tls-cert ${certFile} expired on ${new Date(leaf.validTo).toISOString()}: renew the certificate`);
  return { cert, key };
}

interface ListenError {
  readonly code: string;
  readonly syscall: string;
  readonly port?: number;
}

/** A failure to listen on `at`: the metrics listener's, when `at` is its address. */
export function isListenError(err: unknown, at: { port: number }): err is ListenError {
  const e = err as Partial<ListenError> | undefined;
  return typeof e?.code === 'string' && e.syscall === 'listen' && at.port !== 0 && e.port === at.port;
}

/** Worded for --metrics-host, not --host/--port, which the generic listen message would name. */
export function metricsListenError(err: ListenError, text: string): CliError {
  if (err.code === 'EADDRINUSE') return new CliError(`--metrics-host ${text} is already in use by another program: choose another port`);
  if (err.code === 'EADDRNOTAVAIL') return new CliError(`--metrics-host ${text} is not an address of this machine: choose another`);
  if (err.code === 'EACCES' || err.code === 'EPERM')
    return new CliError(`--metrics-host ${text} needs privileges this user does not have: choose a port above 1023`);
  return new CliError(`cannot listen on --metrics-host ${text} (${err.code}): choose another address`);
}

function readPem(file: string, option: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${option} ${file} does not exist: check the path`);
    if (code === 'EISDIR') throw new CliError(`${option} ${file} is a folder: give the PEM file`);
    if (code === 'EACCES' || code === 'EPERM') throw new CliError(`${option} ${file} cannot be read by this user: check its permissions`);
    throw new CliError(`${option} ${file} cannot be read (${code ?? (err as Error).message})`);
  }
  return text;
}
