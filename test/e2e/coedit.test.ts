import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import { World, type User } from './harness';
import { sleep, waitFor } from './processes';
import { becomeContacts, conflictCopies, readIfExists, setUp, shareAndAccept, step as runStep, SYNC_TIMEOUT, wbOf } from './scenario';

// Live co-editing in two real VS Codes (code-server in headless Chromium), one rendezvous server
// on loopback: alice shares a folder with bob, both open the same file and type into it at once,
// and both editors end with the same text, each showing the other's cursor with a name. Saving
// on both sides leaves byte-identical files and no conflict. Screenshots go to
// test-artifacts/e2e/coedit/.

const FILE = 'notes.md';
const OTHER = 'plan.md';
const FIRST_TEXT = '# Notes\n\nshared line\n';
const ALICE_LINES = ['alice one', 'alice two', 'alice three', 'alice four'];
const BOB_LINES = ['bob one', 'bob two', 'bob three', 'bob four'];

let world: World;
let alice: User;
let bob: User;

const step = (name: string, body: () => Promise<void>): Promise<void> => runStep(world, name, body);

before(async () => {
  world = new World('coedit');
  await world.startServer();
  await world.launchBrowser();
  alice = await world.user('alice');
  bob = await world.user('bob');
});

after(async () => {
  await world?.close();
});

/** A file's bytes, as hex: equal strings, equal bytes. */
function bytesOf(path: string): string {
  return fs.readFileSync(path).toString('hex');
}

/** Waits until the active editor shows a cursor label (decoration content) naming `name`. */
async function waitForRemoteCursor(user: User, name: string): Promise<void> {
  let seen: string[] = [];
  await waitFor(
    `${name}'s cursor label in ${user.name}'s editor`,
    async () => {
      seen = await wbOf(user).decorationTexts();
      return seen.some((t) => t.includes(name));
    },
    SYNC_TIMEOUT,
    300,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; decoration texts: ${JSON.stringify(seen)}`);
  });
}

test('two people type into the same file at once in real VS Code and end with the same text', { timeout: 15 * 60_000 }, async () => {
  const project = alice.folder('project');
  fs.writeFileSync(nodePath.join(project, FILE), FIRST_TEXT);
  fs.writeFileSync(nodePath.join(project, OTHER), '# Plan\n\n' + Array.from({ length: 80 }, (_, i) => `step ${i + 1}`).join('\n') + '\n');
  const bobWork = bob.folder('work');
  fs.writeFileSync(nodePath.join(bobWork, 'todo.txt'), 'bob\n');
  // A multi-root workspace for bob, as in share.test.ts: adding the shared folder edits the workspace file.
  const bobWorkspace = nodePath.join(bob.home, 'bob.code-workspace');
  fs.writeFileSync(bobWorkspace, JSON.stringify({ folders: [{ path: 'work' }] }, null, 2));
  let bobCopy = '';

  await step('both open VS Code and set up', async () => {
    await alice.open(project);
    await bob.open(bobWorkspace);
    await setUp(alice);
    await setUp(bob);
  });

  await step('they become contacts', () => becomeContacts(alice, bob));

  await step('alice shares her folder and bob accepts', async () => {
    bobCopy = await shareAndAccept(alice, bob, 'project', FILE, FIRST_TEXT, bobWork);
    await waitFor(`${OTHER} on bob's disk`, () => fs.existsSync(nodePath.join(nodePath.dirname(bobCopy), OTHER)), SYNC_TIMEOUT, 500);
    await wbOf(bob).shot('accepted');
  });

  await step("both open the file and see each other's cursor", async () => {
    await wbOf(alice).openFile(FILE);
    await wbOf(bob).openFile(FILE);
    // Clicking into the text puts each cursor there, and the session shares it.
    await wbOf(alice).typeInEditor('');
    await wbOf(bob).typeInEditor('', { at: 'start' });
    await waitForRemoteCursor(bob, 'alice');
    await waitForRemoteCursor(alice, 'bob');
    await wbOf(bob).shot('live session');
  });

  await step('both type at once; both editors end with the same text', async () => {
    // Alice appends at the end while bob writes at the top, key by key, at the same time.
    const typing = Date.now();
    await Promise.all([
      wbOf(alice).typeInEditor(ALICE_LINES.map((l) => `${l}\n`).join(''), { delay: 40 }),
      wbOf(bob).typeInEditor(BOB_LINES.map((l) => `${l}\n`).join(''), { at: 'start', delay: 40 }),
    ]);
    process.stdout.write(`# typing took ${Date.now() - typing} ms\n`);
    const all = [...ALICE_LINES, ...BOB_LINES, 'shared line', '# Notes'];
    let texts = { alice: '', bob: '' };
    await waitFor(
      'the same text with every line in both editors',
      async () => {
        texts = { alice: await wbOf(alice).editorText(), bob: await wbOf(bob).editorText() };
        return texts.alice === texts.bob && all.every((l) => texts.alice.includes(l));
      },
      SYNC_TIMEOUT,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; editors: ${JSON.stringify(texts)}`);
    });
    // Every line whole: the two streams of keys never mixed inside a line.
    const lines = texts.alice.split('\n');
    for (const l of [...ALICE_LINES, ...BOB_LINES]) assert.ok(lines.includes(l), `the line "${l}" whole in ${JSON.stringify(lines)}`);
    assert.ok(lines.indexOf('bob four') < lines.indexOf('# Notes'), "bob's lines at the top");
    assert.ok(lines.indexOf('alice one') > lines.indexOf('shared line'), "alice's lines at the end");
  });

  await step("bob sees alice's cursor with her name", async () => {
    // Alice selects her last line: bob sees the selection in her colour and her name at her cursor.
    const a = wbOf(alice);
    await a.page.keyboard.press('ArrowUp');
    await a.page.keyboard.press('End');
    await a.page.keyboard.press('Shift+Home');
    await waitForRemoteCursor(bob, 'alice');
    await wbOf(bob).clearNotifications();
    await wbOf(bob)
      .page.locator('.notifications-toasts .notification-toast')
      .first()
      .waitFor({ state: 'hidden', timeout: 5_000 })
      .catch(() => undefined);
    await sleep(500); // the decoration's repaint after the last move
    const shot = await wbOf(bob).shot('alice cursor in bob editor');
    fs.mkdirSync(nodePath.join(world.artifacts, '..'), { recursive: true });
    fs.copyFileSync(shot, nodePath.join(world.artifacts, 'remote-cursor.png'));
    await wbOf(alice).shot('bob cursor in alice editor');
  });

  await step('both save: byte-identical files, no conflict', async () => {
    const a = wbOf(alice);
    const b = wbOf(bob);
    await a.save();
    await b.save();
    const aliceFile = nodePath.join(project, FILE);
    await waitFor(
      'the same bytes on both disks, with every line',
      () => {
        const [x, y] = [bytesOf(aliceFile), bytesOf(bobCopy)];
        return x === y && [...ALICE_LINES, ...BOB_LINES].every((l) => Buffer.from(x, 'hex').toString('utf8').includes(l));
      },
      SYNC_TIMEOUT,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; alice: ${JSON.stringify(readIfExists(aliceFile))}, bob: ${JSON.stringify(readIfExists(bobCopy))}`);
    });
    // Replication of both saves settles: still equal, and neither side made a conflict copy.
    await sleep(5_000);
    assert.equal(bytesOf(aliceFile), bytesOf(bobCopy), 'still byte-identical after replication settled');
    assert.deepEqual(conflictCopies(project), []);
    assert.deepEqual(conflictCopies(nodePath.dirname(bobCopy)), []);
    assert.equal(await a.page.locator('.editor-group-container.active .tab.active.dirty').count(), 0, "alice's editor is saved");
    assert.equal(await b.page.locator('.editor-group-container.active .tab.active.dirty').count(), 0, "bob's editor is saved");
    await b.shot('saved');
  });

  await step('bob follows alice into another file', async () => {
    const b = wbOf(bob);
    await b.focusView('Shared Folders');
    const folderName = nodePath.basename(nodePath.dirname(bobCopy));
    await b.clickTreeItem('Shared Folders', folderName);
    await b.waitForRow(
      'Shared Folders',
      (r) => r.label === 'alice' && /in notes\.md/.test(r.description),
      'alice in notes.md',
      SYNC_TIMEOUT,
    );
    await b.clickInlineAction('Shared Folders', 'alice', 'Follow');
    // Alice opens another file and goes to its end: bob's window shows that file at her place.
    const a = wbOf(alice);
    await a.openFile(OTHER);
    await b.activeEditorTab(OTHER, SYNC_TIMEOUT);
    await a.typeInEditor('');
    await b.waitForEditorText((t) => t.includes('step 80'), 'the end of plan.md, where alice is', SYNC_TIMEOUT);
    await b.shot('following alice');
  });
});
