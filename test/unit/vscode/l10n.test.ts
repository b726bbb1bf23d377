import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

test('l10n/bundle.l10n.json lists every string passed to l10n.t (run `npm run l10n` after changing strings)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain JS script, outside the TypeScript projects
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

test('every command in menus is declared, and every tree-only command is hidden from the palette', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    contributes: { commands: { command: string }[]; menus: Record<string, { command: string; when?: string }[]> };
  };
  const declared = new Set(manifest.contributes.commands.map((c) => c.command));
  for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
    for (const item of items) assert.ok(declared.has(item.command), `${menu} names undeclared ${item.command}`);
  }
  const hidden = new Set(manifest.contributes.menus['commandPalette']?.filter((m) => m.when === 'false').map((m) => m.command));
  for (const id of ['sharedFolders.chatWith', 'sharedFolders.shareFolderWithContact', 'sharedFolders.openActivity']) assert.ok(hidden.has(id), id);
});

test('every declared command is registered by the extension', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
  const sources = [path.join(ROOT, 'src', 'extension.ts'), ...fs.readdirSync(path.join(ROOT, 'src', 'vscode'), { recursive: true }).map((f) => path.join(ROOT, 'src', 'vscode', String(f)))]
    .filter((f) => f.endsWith('.ts')).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const registered = new Set([...sources.matchAll(/register\(\s*'(sharedFolders\.[A-Za-z]+)'/g)].map((m) => m[1]));
  registered.add('sharedFolders.showLog'); // registered through its constant
  for (const { command } of manifest.contributes.commands) assert.ok(registered.has(command), `${command} is declared but never registered`);
});
