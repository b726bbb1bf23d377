import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Commands } from '../../../src/vscode/app/commands';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

interface Manifest {
  contributes: { commands: { command: string }[]; menus: Record<string, { command: string; when?: string }[]> };
}
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
const declared = manifest.contributes.commands.map((c) => c.command);

/** The extension's sources (src/extension.ts and src/vscode), by path relative to the root. */
function sources(): Map<string, string> {
  const files = [
    'src/extension.ts',
    ...fs
      .readdirSync(path.join(ROOT, 'src', 'vscode'), { recursive: true })
      .map((f) => `src/vscode/${String(f).split(path.sep).join('/')}`),
  ];
  return new Map(files.filter((f) => f.endsWith('.ts')).map((f) => [f, fs.readFileSync(path.join(ROOT, f), 'utf8')]));
}

test('the table of commands is exactly the commands package.json declares', () => {
  const ids = Object.values(Commands);
  assert.equal(new Set(ids).size, ids.length, 'two names for one command id');
  assert.equal(new Set(declared).size, declared.length, 'a command declared twice');
  assert.deepEqual([...ids].sort(), [...declared].sort());
});

test('every command in the table is registered by the extension', () => {
  const registered = new Set<string>();
  for (const text of sources().values()) {
    for (const m of text.matchAll(/\bregister\(\s*Commands\.(\w+)\s*,/g)) registered.add(m[1]!);
  }
  for (const [name, id] of Object.entries(Commands)) assert.ok(registered.has(name), `${id} (Commands.${name}) is never registered`);
  // Only the command runner registers with VS Code, under the id it is given; every caller names the table.
  for (const [file, text] of sources()) {
    if (file === 'src/vscode/app/command-runner.ts') assert.match(text, /registerCommand\(id,/);
    else assert.doesNotMatch(text, /registerCommand\(/, `${file} registers a command around the command runner`);
    assert.doesNotMatch(text, /\bregister\(\s*['"`]/, `${file} registers a command by a literal id`);
  }
});

test('the sources name commands only through the table', () => {
  const ids = new Set<string>(Object.values(Commands));
  for (const [file, text] of sources()) {
    if (file === 'src/vscode/app/commands.ts') continue;
    for (const m of text.matchAll(/['"`](sharedFolders\.[\w.]+)['"`]/g))
      assert.ok(!ids.has(m[1]!), `${file} spells out ${m[1]}: use Commands`);
  }
});

test('every command in menus and welcome links is declared, and every tree-only command is hidden from the palette', () => {
  const known = new Set(declared);
  for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
    for (const item of items) assert.ok(known.has(item.command), `${menu} names undeclared ${item.command}`);
  }
  const nls = fs.readFileSync(path.join(ROOT, 'package.nls.json'), 'utf8');
  const linked = [...nls.matchAll(/\(command:(sharedFolders\.[\w.]+)\)/g)].map((m) => m[1]!);
  assert.ok(linked.length > 0);
  for (const id of linked) assert.ok(known.has(id), `a welcome view links undeclared ${id}`);
  const hidden = new Set(manifest.contributes.menus['commandPalette']?.filter((m) => m.when === 'false').map((m) => m.command));
  for (const id of [Commands.chatWith, Commands.shareFolderWithContact, Commands.openActivity]) assert.ok(hidden.has(id), id);
});
