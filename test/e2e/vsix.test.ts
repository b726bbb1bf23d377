import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { ROOT, vsixPath } from './harness';

// The package `npm run package` built holds the bundle and what the marketplace page shows, and
// nothing else: no sources, tests, node_modules or source maps (.vscodeignore).

/** The names in a zip file's central directory. */
function zipEntries(file: string): { name: string; size: number }[] {
  const zip = fs.readFileSync(file);
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  assert.ok(end >= 0, `${file} is not a zip file`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: { name: string; size: number }[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, 'a central directory entry');
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    entries.push({ name: zip.subarray(at + 46, at + 46 + nameLength).toString('utf8'), size });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

test('the vsix holds the bundle, media, README, CHANGELOG, LICENSE and package.json only', () => {
  const entries = zipEntries(vsixPath());
  const names = entries.map((e) => e.name);
  for (const required of [
    'extension.vsixmanifest',
    'extension/package.json',
    'extension/readme.md',
    'extension/changelog.md',
    'extension/LICENSE.txt',
    'extension/dist/extension.js',
    'extension/media/icon.png',
  ]) {
    assert.ok(names.includes(required), `the vsix holds ${required}; it holds ${JSON.stringify(names)}`);
  }
  const allowed =
    /^(\[Content_Types\]\.xml|extension\.vsixmanifest|extension\/(package\.json|package\.nls(\.[a-z-]+)?\.json|readme\.md|changelog\.md|LICENSE\.txt|dist\/[^/].*\.js|media\/.+|l10n\/.+\.json))$/;
  const unexpected = names.filter((n) => !n.endsWith('/') && !allowed.test(n));
  assert.deepEqual(unexpected, [], 'files outside dist/, media/, l10n/, README, CHANGELOG, LICENSE and package.json');
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  assert.ok(total < 20 * 1024 * 1024, `the vsix unpacks to ${total} bytes`);

  const manifest = JSON.parse(fs.readFileSync(nodePath.join(ROOT, 'package.json'), 'utf8')) as {
    engines: { vscode: string };
    devDependencies: Record<string, string>;
    icon: string;
  };
  assert.equal(manifest.engines.vscode, '^1.100.0');
  assert.equal(manifest.devDependencies['@types/vscode'], '1.100.0');
  const icon = fs.readFileSync(nodePath.join(ROOT, manifest.icon));
  assert.equal(icon.subarray(1, 4).toString('ascii'), 'PNG');
  assert.deepEqual([icon.readUInt32BE(16), icon.readUInt32BE(20)], [128, 128], 'a 128x128 icon');
});
