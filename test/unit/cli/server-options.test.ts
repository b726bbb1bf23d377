import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { CliError, UsageError } from '../../../src/cli/cli-errors';
import { hostAndPort, serverTls } from '../../../src/cli/server-options';
import { SELF_SIGNED_CERT, SELF_SIGNED_KEY } from '../node/net/self-signed';

function inTemp(run: (dir: string) => void): void {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-server-options-'));
  try {
    run(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('--metrics-host: a host alone takes the default port; HOST:PORT and bracketed IPv6 take theirs', () => {
  assert.deepEqual(hostAndPort('127.0.0.1', '--metrics-host', 7071), { host: '127.0.0.1', port: 7071 });
  assert.deepEqual(hostAndPort('10.0.0.5:9100', '--metrics-host', 7071), { host: '10.0.0.5', port: 9100 });
  assert.deepEqual(hostAndPort('[::1]:9100', '--metrics-host', 7071), { host: '::1', port: 9100 });
  assert.deepEqual(hostAndPort('[::1]', '--metrics-host', 7071), { host: '::1', port: 7071 });
  assert.deepEqual(hostAndPort('::1', '--metrics-host', 7071), { host: '::1', port: 7071 });
  assert.deepEqual(hostAndPort('localhost:0', '--metrics-host', 7071), { host: 'localhost', port: 0 });
});

test('--metrics-host: a bad port or an empty host is a usage error naming the option', () => {
  assert.throws(
    () => hostAndPort('127.0.0.1:http', '--metrics-host', 7071),
    (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /^--metrics-host http is not a port number/);
      return true;
    },
  );
  assert.throws(
    () => hostAndPort(':9100', '--metrics-host', 7071),
    /^UsageError: --metrics-host :9100 is not an address: write it as HOST or HOST:PORT/,
  );
});

test('--tls-cert/--tls-key: neither is no TLS; one without the other is a usage error', () => {
  assert.equal(serverTls(undefined, undefined), undefined);
  assert.throws(
    () => serverTls('cert.pem', undefined),
    (err: unknown) => err instanceof UsageError && /--tls-cert needs --tls-key/.test(err.message),
  );
  assert.throws(
    () => serverTls(undefined, 'key.pem'),
    (err: unknown) => err instanceof UsageError && /--tls-key needs --tls-cert/.test(err.message),
  );
});

test('--tls-cert/--tls-key: a matching pair is read; a missing file, a non-PEM file, a wrong key or an expired certificate is named', () => {
  inTemp((dir) => {
    const cert = nodePath.join(dir, 'cert.pem');
    const key = nodePath.join(dir, 'key.pem');
    const otherKey = nodePath.join(dir, 'other.pem');
    fs.writeFileSync(cert, SELF_SIGNED_CERT);
    fs.writeFileSync(key, SELF_SIGNED_KEY);
    fs.writeFileSync(
      otherKey,
      crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    );
    assert.deepEqual(serverTls(cert, key), { cert: SELF_SIGNED_CERT, key: SELF_SIGNED_KEY });
    const failsWith = (certFile: string, keyFile: string, message: string, now?: number): void => {
      assert.throws(
        () => serverTls(certFile, keyFile, now),
        (err: unknown) => err instanceof CliError && err.message === message,
      );
    };
    failsWith(nodePath.join(dir, 'none.pem'), key, `--tls-cert ${nodePath.join(dir, 'none.pem')} does not exist: check the path`);
    failsWith(cert, dir, `--tls-key ${dir} is a folder: give the PEM file`);
    failsWith(key, key, `--tls-cert ${key} is not a PEM certificate (-----BEGIN CERTIFICATE-----): give the server's certificate chain`);
    failsWith(
      cert,
      cert,
      `--tls-key ${cert} is not a PEM private key (-----BEGIN PRIVATE KEY-----), or it is encrypted: give the unencrypted key`,
    );
    failsWith(cert, otherKey, `--tls-key ${otherKey} is not the key of --tls-cert ${cert}: give the key the certificate was made for`);
    const validTo = new crypto.X509Certificate(SELF_SIGNED_CERT).validTo;
    failsWith(
      cert,
      key,
      `--tls-cert ${cert} expired on ${new Date(validTo).toISOString()}: renew the certificate`,
      Date.parse(validTo) + 1000,
    );
  });
});
