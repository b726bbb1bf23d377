import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import { World, type User } from './harness';
import { sleep, waitFor } from './processes';
import {
  acceptShare,
  becomeContacts,
  conflictCopies,
  readIfExists,
  setUp,
  shareWith,
  step as runStep,
  SYNC_TIMEOUT,
  wbOf,
} from './scenario';

// Live co-editing in three real VS Codes (code-server in headless Chromium), one rendezvous server
// on loopback, with every core of the machine kept busy by spinning processes the test starts: a
// busy machine widens every race between a window and its extension host. alice shares a folder
// with bob and carol; all three open one file and type into it at once, a key at a time, at 40 ms
// and then at 10 ms a key: alice whole lines at the end, bob words at the start of the shared line
// and carol at its end (the same line). Every key must land exactly once, in place: the three
// editors must show exactly the text the three typists meant. Then a conflict on the file, open on
// both sides: alice and bob pause, both rewrite the same line and save, resume; both editors end
// equal to their disks, nothing dirty, and co-editing starts again. Screenshots go to
// test-artifacts/e2e/coedit/.

const FILE = 'notes.md';
const FIRST_TEXT = '# Notes\n\nshared line\n';
/**
 * Suggestions would take an Enter typed at the end of a word: off, so the keys are the text. Lines
 * are read from the rendered editor, where a wrapped line would read as two: no wrapping (Markdown
 * wraps by default).
 */
const SETTINGS = {
  'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
  'editor.wordBasedSuggestions': 'off',
  'editor.acceptSuggestionOnEnter': 'off',
  'editor.suggestOnTriggerCharacters': false,
  '[markdown]': { 'editor.wordWrap': 'off' },
};

let world: World;
let alice: User;
let bob: User;
let carol: User;
const busy: ChildProcess[] = [];

const step = (name: string, body: () => Promise<void>): Promise<void> => runStep(world, name, body);

before(async () => {
  world = new World('coedit');
  await world.startServer();
  await world.launchBrowser();
  alice = await world.user('alice', { settings: SETTINGS });
  bob = await world.user('bob', { settings: SETTINGS });
  carol = await world.user('carol', { settings: SETTINGS });
});

after(async () => {
  for (const child of busy.splice(0)) await world?.processes.stop(child, 1_000);
  await world?.close();
});

/** One spinning process per core, at normal priority, until stopped. */
function makeEveryCoreBusy(): void {
  for (let i = 0; i < os.cpus().length; i++)
    busy.push(
      world.processes.start(`busy-${i}`, process.execPath, ['-e', 'for (;;) {}'], { logFile: nodePath.join(world.artifacts, 'busy.log') }),
    );
  process.stdout.write(`# ${busy.length} spinning processes keep every core busy\n`);
}

/** Clicks into the active editor and puts the cursor at the start of line `line` (0-based), or at its end. */
async function cursorTo(user: User, line: number, end: boolean): Promise<void> {
  const wb = wbOf(user);
  await wb.page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await wb.page.keyboard.press('Control+Home');
  for (let i = 0; i < line; i++) await wb.page.keyboard.press('ArrowDown');
  await wb.page.keyboard.press(end ? 'End' : 'Home');
}

/** Types at the cursor, a key at a time. */
function typeKeys(user: User, text: string, delay: number): Promise<void> {
  return wbOf(user).page.keyboard.type(text, { delay });
}

async function dirtyTabs(user: User): Promise<number> {
  return wbOf(user).page.locator('.tab.dirty').count();
}

/** Waits until every editor shows `expected`, then checks it still does a moment later. */
async function allEditorsShow(users: readonly User[], expected: string, what: string): Promise<void> {
  let texts: Record<string, string> = {};
  const read = async (): Promise<boolean> => {
    texts = {};
    for (const u of users) texts[u.name] = await wbOf(u).editorText();
    return users.every((u) => texts[u.name] === expected);
  };
  await waitFor(what, read, 3 * SYNC_TIMEOUT, 500).catch((err: Error) => {
    throw new Error(`${err.message}; expected ${JSON.stringify(expected)}; editors: ${JSON.stringify(texts, null, 1)}`);
  });
  await sleep(2_000);
  assert.ok(await read(), `still the same a moment later: ${JSON.stringify(texts)}`);
}

test(
  'three people type into one file at once on a busy machine; a conflict leaves editors on their disks',
  { timeout: 30 * 60_000 },
  async () => {
    const project = alice.folder('project');
    fs.writeFileSync(nodePath.join(project, FILE), FIRST_TEXT);
    const workspaces = new Map<User, string>();
    for (const u of [bob, carol]) {
      fs.writeFileSync(nodePath.join(u.folder('work'), 'todo.txt'), `${u.name}\n`);
      const file = nodePath.join(u.home, `${u.name}.code-workspace`);
      fs.writeFileSync(file, JSON.stringify({ folders: [{ path: 'work' }] }, null, 2));
      workspaces.set(u, file);
    }
    const copies = new Map<User, string>([[alice, nodePath.join(project, FILE)]]);
    const everyone = [alice, bob, carol];

    await step('all three open VS Code, set up and become contacts of alice', async () => {
      await alice.open(project);
      await bob.open(workspaces.get(bob));
      await carol.open(workspaces.get(carol));
      for (const u of everyone) await setUp(u);
      await becomeContacts(alice, bob);
      await becomeContacts(alice, carol);
    });

    await step('alice shares her folder with both; both accept', async () => {
      await shareWith(alice, 'project', [bob, carol]);
      for (const u of [bob, carol]) copies.set(u, await acceptShare(alice, u, FILE, FIRST_TEXT, u.folder('work')));
    });

    await step('all three open the file; a key typed by one shows at the others', async () => {
      for (const u of everyone) await wbOf(u).openFile(FILE);
      await cursorTo(alice, 3, false);
      await typeKeys(alice, 'x', 0);
      await allEditorsShow(everyone, `${FIRST_TEXT}x`, 'the probe key in every editor');
      await wbOf(alice).page.keyboard.press('Backspace');
      await allEditorsShow(everyone, FIRST_TEXT, 'the probe key gone from every editor');
      await wbOf(carol).shot('live session');
    });

    makeEveryCoreBusy();
    let bobWords = '';
    let carolWords = '';
    let aliceLines = '';
    const expected = (): string => `# Notes\n\n${bobWords}shared line${carolWords}\n${aliceLines}`;

    for (const [round, delay] of [
      ['A', 40],
      ['B', 10],
    ] as const) {
      await step(`round ${round}: all three type at ${delay} ms a key, bob and carol on one line`, async () => {
        // Cursors: alice at the end, bob at the start of the shared line (after his earlier words),
        // carol at its end. Placed before anyone types, so nobody's click lands in moving text.
        await cursorTo(alice, 3 + aliceLines.split('\n').length - 1, false);
        await cursorTo(bob, 2, false);
        await wbOf(bob).page.keyboard.press('Home');
        for (let i = 0; i < bobWords.length; i++) await wbOf(bob).page.keyboard.press('ArrowRight');
        await cursorTo(carol, 2, true);
        const a = [1, 2, 3].map((i) => `alice ${round}${i}\n`).join('');
        const b = [1, 2, 3].map((i) => `bob${round}${i} `).join('');
        const c = [1, 2, 3].map((i) => ` carol${round}${i}`).join('');
        const started = Date.now();
        await Promise.all([typeKeys(alice, a, delay), typeKeys(bob, b, delay), typeKeys(carol, c, delay)]);
        process.stdout.write(`# round ${round}: typing took ${Date.now() - started} ms\n`);
        aliceLines += a;
        bobWords += b;
        carolWords += c;
        await allEditorsShow(everyone, expected(), `every key of round ${round} once, in place, in every editor`);
        await wbOf(bob).shot(`round ${round} typed`);
      });
    }

    await step('all three save: byte-identical files, no conflict, nothing dirty', async () => {
      for (const u of everyone) await wbOf(u).save();
      await waitFor(
        'the typed text on every disk',
        () => everyone.every((u) => readIfExists(copies.get(u)!) === expected()),
        SYNC_TIMEOUT,
        500,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; disks: ${JSON.stringify(everyone.map((u) => readIfExists(copies.get(u)!)))}`);
      });
      await sleep(5_000);
      for (const u of everyone) {
        assert.equal(readIfExists(copies.get(u)!), expected(), `${u.name}'s file after replication settled`);
        assert.deepEqual(conflictCopies(nodePath.dirname(copies.get(u)!)), [], `no conflict copy at ${u.name}`);
        assert.equal(await dirtyTabs(u), 0, `${u.name}'s editor is saved`);
      }
    });

    await step('alice and bob pause, rewrite the shared line differently and save', async () => {
      for (const u of [alice, bob]) {
        const wb = wbOf(u);
        await wb.runCommand('Shared Folders: Pause Sync');
        if (await wb.quickInputOpens(3_000)) await wb.pickMatching(/./);
        await waitFor(
          `${u.name}'s status bar saying Paused`,
          async () => /Paused/.test(await wb.page.locator('.part.statusbar').innerText()),
          SYNC_TIMEOUT,
          500,
        );
      }
      for (const [u, line] of [
        [alice, 'Status: final, alice signed off'],
        [bob, 'Status: approved by bob'],
      ] as const) {
        const wb = wbOf(u);
        await cursorTo(u, 2, false);
        await wb.page.keyboard.press('Shift+End');
        await typeKeys(u, line, 20);
        await wb.save();
        assert.equal(readIfExists(copies.get(u)!)?.split('\n')[2], line, `${u.name}'s disk has ${u.name}'s line`);
        assert.equal((await wb.editorText()).split('\n')[2], line, `${u.name}'s editor has only ${u.name}'s line`);
      }
    });

    await step('both resume: a conflict, and every editor ends equal to its disk, nothing dirty', async () => {
      for (const u of [alice, bob]) {
        const wb = wbOf(u);
        await wb.runCommand('Shared Folders: Resume Sync');
        if (await wb.quickInputOpens(3_000)) await wb.pickMatching(/./);
      }
      await waitFor(
        'a conflict copy at alice and at bob',
        () => conflictCopies(project).length > 0 && conflictCopies(nodePath.dirname(copies.get(bob)!)).length > 0,
        2 * SYNC_TIMEOUT,
        500,
      );
      let seen: Record<string, { editor: string; disk: string | undefined; dirty: number }> = {};
      const settled = async (): Promise<boolean> => {
        seen = {};
        for (const u of everyone) {
          seen[u.name] = { editor: await wbOf(u).editorText(), disk: readIfExists(copies.get(u)!), dirty: await dirtyTabs(u) };
        }
        const first = seen[alice.name]!.disk;
        return everyone.every(
          (u) => seen[u.name]!.editor === seen[u.name]!.disk && seen[u.name]!.dirty === 0 && seen[u.name]!.disk === first,
        );
      };
      await waitFor('every editor equal to its disk, the same file everywhere, nothing dirty', settled, 2 * SYNC_TIMEOUT, 1_000).catch(
        (err: Error) => {
          throw new Error(`${err.message}; ${JSON.stringify(seen, null, 1)}`);
        },
      );
      await sleep(5_000);
      assert.ok(await settled(), `still so a moment later: ${JSON.stringify(seen, null, 1)}`);
      const line = seen[alice.name]!.disk!.split('\n')[2]!;
      assert.ok(['Status: final, alice signed off', 'Status: approved by bob'].includes(line), `one side's line, not a mix: ${line}`);
      await wbOf(alice).shot('conflict, editors on disk');
      await wbOf(bob).shot('conflict, editors on disk');
    });

    await step('co-editing starts again over the file every disk has', async () => {
      const disk = readIfExists(copies.get(alice)!)!;
      await cursorTo(alice, disk.split('\n').length - 1, false);
      await typeKeys(alice, 'after the conflict', 20);
      await allEditorsShow(everyone, `${disk}after the conflict`, 'the new line in every editor');
    });
  },
);
