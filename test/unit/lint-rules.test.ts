// The layer, cycle and promise rules of eslint.config.mjs, checked against planted violations: each
// case lints a forbidden text in place of a real file (so the type-aware parser knows the path)
// and expects the rule that must catch it. `npm run lint` shows the real tree passes the same rules.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const eslint = new ESLint({ cwd: ROOT });

const PATHS = 'import-x/no-restricted-paths';
const PACKAGES = '@typescript-eslint/no-restricted-imports';

async function rulesFired(file: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: path.join(ROOT, file) });
  assert.ok(result, `no lint result for ${file}`);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${file} did not parse`);
  return [...new Set(result.messages.map((m) => m.ruleId ?? 'none'))].sort();
}

const cases: { what: string; file: string; text: string; rules: string[] }[] = [
  {
    what: 'the pure engine imports a Node API',
    file: 'src/sync/model/path.ts',
    text: "import * as fs from 'node:fs';\nexport const f = fs;\n",
    rules: [PACKAGES],
  },
  {
    what: 'the pure engine imports ws or vscode',
    file: 'src/sync/model/path.ts',
    text: "import * as ws from 'ws';\nimport * as vscode from 'vscode';\nexport const f = [ws, vscode];\n",
    rules: [PACKAGES],
  },
  {
    what: 'the pure engine imports the Node side',
    file: 'src/sync/coedit/colour.ts',
    text: "import { decodeInvite } from '../../node/agent/codes';\nexport const f = decodeInvite;\n",
    rules: [PATHS],
  },
  {
    what: 'the server imports the replica (only protocol and util are shared)',
    file: 'src/server/json-log.ts',
    text: "import { Replica } from '../sync/replica/replica';\nexport const f = Replica;\n",
    rules: [PATHS],
  },
  {
    what: 'the server imports the Node side',
    file: 'src/server/json-log.ts',
    text: "import { DiskStore } from '../node/disk/disk-store';\nexport const f = DiskStore;\n",
    rules: [PATHS],
  },
  {
    what: 'the Node side imports vscode or the server',
    file: 'src/node/disk/disk-entry.ts',
    text: "import * as vscode from 'vscode';\nimport { RendezvousServer } from '../../server/rendezvous-server';\nexport const f = [vscode, RendezvousServer];\n",
    rules: [PACKAGES, PATHS],
  },
  {
    what: 'a view model imports vscode',
    file: 'src/vscode/folders/folders-model.ts',
    text: "import * as vscode from 'vscode';\nexport const f = vscode;\n",
    rules: [PACKAGES],
  },
  {
    what: 'the extension pulls in the server',
    file: 'src/vscode/app/settings.ts',
    text: "import { RendezvousServer } from '../../server/rendezvous-server';\nexport const f = RendezvousServer;\n",
    rules: [PATHS],
  },
  {
    what: 'the extension pulls in native code',
    file: 'src/vscode/app/settings.ts',
    text: "import Database from 'better-sqlite3';\nexport const f = Database;\n",
    rules: [PACKAGES],
  },
  {
    what: 'the CLI imports the extension UI',
    file: 'src/cli/main.ts',
    text: "import { Commands } from '../vscode/app/commands';\nexport const f = Commands;\n",
    rules: [PATHS],
  },
  {
    what: 'an import cycle at run time (file-record imports bytes)',
    file: 'src/sync/util/bytes.ts',
    text: "import { NO_HASH } from '../model/file-record';\nexport const f = NO_HASH;\n",
    rules: ['import-x/no-cycle'],
  },
  {
    what: 'an import cycle through a type-only import',
    file: 'src/sync/util/bytes.ts',
    text: "import type { FileRecord } from '../model/file-record';\nexport type F = FileRecord;\n",
    rules: ['local/no-type-cycle'],
  },
  {
    what: 'a floating promise',
    file: 'src/node/disk/disk-entry.ts',
    text: 'async function later(): Promise<void> {}\nexport function now(): void {\n  later();\n}\n',
    rules: ['@typescript-eslint/no-floating-promises'],
  },
];

for (const c of cases) {
  test(`lint catches: ${c.what}`, async () => {
    assert.deepEqual(await rulesFired(c.file, c.text), c.rules);
  });
}

test('lint lets through what the layers allow: the server on protocol and util, a view model on the command table', async () => {
  const server =
    "import { encodeMessage } from '../sync/protocol/codec';\nimport { toHex } from '../sync/util/bytes';\nexport const f = [encodeMessage, toHex];\n";
  assert.deepEqual(await rulesFired('src/server/json-log.ts', server), []);
  const model = "import { Commands } from '../app/commands';\nexport const f = Commands;\n";
  assert.deepEqual(await rulesFired('src/vscode/folders/folders-model.ts', model), []);
});
