import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { userVisibleLiterals } from './user-visible-literals';

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

/** Shown as typed in every language: the shape of a code the user pastes. */
const NOT_TRANSLATED = new Set(["'sf-link-…'", "'sf-invite-…'"]);

test('no user-visible string in the extension escapes l10n.t', () => {
  const ui = path.join(ROOT, 'src', 'vscode');
  const files = [
    path.join(ROOT, 'src', 'extension.ts'),
    ...fs.readdirSync(ui, { recursive: true }).map((f) => path.join(ui, String(f))),
  ].filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 40);
  const found = files.flatMap((file) =>
    userVisibleLiterals(fs.readFileSync(file, 'utf8')).map((e) => ({ ...e, file: path.relative(ROOT, file) })),
  );
  const escapes = found.filter((e) => !NOT_TRANSLATED.has(e.literal)).map((e) => `${e.file}:${e.line}: ${e.literal}`);
  assert.deepEqual(escapes, []);
  // An exception that no longer occurs goes from the list.
  for (const literal of NOT_TRANSLATED)
    assert.ok(
      found.some((e) => e.literal === literal),
      `${literal} is not shown any more`,
    );
});

test('the scan for user-visible strings finds planted ones and passes localized ones', () => {
  const sample = [
    /* 1 */ "void vscode.window.showInformationMessage('Saved.');",
    /* 2 */ "void vscode.window.showWarningMessage(`Deleted ${n} files`, l10n.t('Undo'));",
    /* 3 */ "void vscode.window.showErrorMessage(l10n.t('It failed.'), 'Retry');",
    /* 4 */ "await vscode.window.showQuickPick(['Yes', l10n.t('No')], { placeHolder: 'Pick one' });",
    /* 5 */ "quickPick.title = 'Choose';",
    /* 6 */ "await vscode.window.showInputBox({ prompt: 'Name?', placeHolder: l10n.t('x'), title: cond ? 'A' : l10n.t('B') });",
    /* 7 */ "await vscode.window.withProgress({ location, title: 'Sharing' + '…' }, task);",
    /* 8 */ "const item = new vscode.TreeItem('Row');",
    /* 9 */ 'item.tooltip = `Owner: ${owner}`; item.description = "online";',
    /* 10 */ "this.status.text = '$(sync) Syncing';",
    /* 11 */ 'throw new UserFacingError(`No contact ${name}.`);',
    // Not escapes:
    /* 13 */ "const row = { label: `$(folder) ${name}`, text: l10n.t('Fine {0}', `${a}: ${b}`), detail: `${a}\\n${b}` };",
    /* 14 */ "if (x.text === 'abc' || 'def' !== x.label) log('text: in a log line');",
    /* 15 */ "// title: 'in a comment'",
    /* 16 */ "const text = 'a variable'; const o = { label: name.startsWith('sf-') ? a : b, kind: 'direct' };",
    /* 17 */ "void vscode.window.showInformationMessage(l10n.t('Sent to {0}.', 'bob'), ...actions);",
  ].join('\n');
  const found = userVisibleLiterals(sample).map((e) => `${e.line}: ${e.literal}`);
  assert.deepEqual(found, [
    "1: 'Saved.'",
    '2: `Deleted ${n} files`',
    "3: 'Retry'",
    "4: 'Yes'",
    "4: 'Pick one'",
    "5: 'Choose'",
    "6: 'Name?'",
    "6: 'A'",
    "7: 'Sharing'",
    "8: 'Row'",
    '9: `Owner: ${owner}`',
    '9: "online"',
    "10: '$(sync) Syncing'",
    '11: `No contact ${name}.`',
  ]);
});
