import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

test('l10n/bundle.l10n.json lists every string passed to l10n.t (run `npm run l10n` after changing strings)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { extract } = require(path.join(ROOT, 'scripts', 'l10n-export.js')) as { extract(root: string): Record<string, string> };
  const bundle = JSON.parse(fs.readFileSync(path.join(ROOT, 'l10n', 'bundle.l10n.json'), 'utf8')) as Record<string, string>;
  assert.deepEqual(bundle, extract(ROOT));
});

test('every %key% in package.json has an English text in package.nls.json', () => {
  const manifest = fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8');
  const nls = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.nls.json'), 'utf8')) as Record<string, string>;
  const keys = [...manifest.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1] as string);
  assert.ok(keys.length > 20);
  for (const key of keys) assert.ok(typeof nls[key] === 'string', `package.nls.json lacks ${key}`);
});
