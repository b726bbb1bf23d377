import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { CliError } from '../../../../src/cli/cli-errors';
import type { ParsedArgs } from '../../../../src/cli/command-spec';
import { connectionOf } from '../../../../src/cli/commands/common-options';
import { SELF_SIGNED_CERT } from '../../node/net/self-signed';

function args(options: Record<string, string>): ParsedArgs {
  return { command: 'status', options, positionals: [] };
}

function withCaFiles(run: (good: string, other: string, dir: string) => void): void {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-ca-option-'));
  try {
    fs.writeFileSync(nodePath.join(dir, 'ca.pem'), SELF_SIGNED_CERT);
    fs.writeFileSync(nodePath.join(dir, 'other.pem'), SELF_SIGNED_CERT);
    run(nodePath.join(dir, 'ca.pem'), nodePath.join(dir, 'other.pem'), dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('--ca: none given is no private CA', () => {
  assert.deepEqual(connectionOf(args({}), {}), {});
  assert.deepEqual(connectionOf(args({}), { SHARED_FOLDERS_CA: '' }), {});
});

test('--ca: the option wins over SHARED_FOLDERS_CA, which applies without it; paths are made absolute', () => {
  withCaFiles((good, other) => {
    assert.deepEqual(connectionOf(args({ ca: good }), { SHARED_FOLDERS_CA: other }), { caFile: good });
    assert.deepEqual(connectionOf(args({}), { SHARED_FOLDERS_CA: other }), { caFile: other });
    const relative = nodePath.relative(process.cwd(), good);
    assert.deepEqual(connectionOf(args({ ca: relative }), {}), { caFile: good });
  });
});

test('--ca: a missing file, or one without a certificate, is a CLI error naming where it came from', () => {
  withCaFiles((_good, _other, dir) => {
    const missing = nodePath.join(dir, 'missing.pem');
    assert.throws(
      () => connectionOf(args({ ca: missing }), {}),
      (err: unknown) => err instanceof CliError && err.message === `--ca: the CA file ${missing} does not exist: check the path`,
    );
    const text = nodePath.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'not a certificate\n');
    assert.throws(
      () => connectionOf(args({}), { SHARED_FOLDERS_CA: text }),
      (err: unknown) =>
        err instanceof CliError &&
        err.message ===
          `SHARED_FOLDERS_CA: the CA file ${text} holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA's certificate`,
    );
  });
});
