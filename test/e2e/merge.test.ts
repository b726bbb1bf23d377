import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import { World, type User } from './harness';
import { sleep, waitFor } from './processes';
import { becomeContacts, conflictCopies, readIfExists, setUp, shareAndAccept, step as runStep, SYNC_TIMEOUT, wbOf } from './scenario';
import type { Workbench } from './workbench';

// Conflicts settled where they are seen, in two real VS Codes (code-server in headless Chromium)
// and one rendezvous server on loopback. Alice shares a folder with bob; both pause it, change
// the same line of a file differently and resume: (a) alice merges the two versions in VS Code's
// 3-way merge editor and completes the merge, which settles the conflict on both sides; (b) on a
// second conflict bob's editor title and palette offer the choices, and when alice takes one, bob's
// diff closes and he is told; (c) the Explorer's tooltip on a conflicted file says who changed it
// and when. Screenshots go to test-artifacts/e2e/merge/.
//
// Live co-editing is off: this test is about what replication keeps as a conflict, and the live
// session of an open file is another feature with tests of its own (coedit.test.ts).

const PLAN = 'plan.md';
const NOTES = 'notes.md';
const DATA = 'data.bin';
const lines = (status: string): string => `# Plan\n\nOwner: nobody\nStatus: ${status}\nBudget: none\n`;
const PLAN_BASE = lines('draft');
const PLAN_ALICE = lines('approved by alice');
const PLAN_BOB = lines('final, bob signed off');
const PLAN_MERGED = lines('approved by alice, final, bob signed off');
const PLAN_ALICE_AGAIN = lines('on hold, says alice');
const PLAN_BOB_AGAIN = lines('cancelled, says bob');
const NOTES_BASE = 'Notes\n\nDecision: pending\n';
const NOTES_ALICE = 'Notes\n\nDecision: go, says alice\n';
const NOTES_BOB = 'Notes\n\nDecision: wait, says bob\n';

let world: World;
let alice: User;
let bob: User;
/** Alice's shared folder, and where it landed on bob's disk (set once he accepts). */
let project = '';
let bobFolder = '';

const step = (name: string, body: () => Promise<void>): Promise<void> => runStep(world, name, body);

before(async () => {
  world = new World('merge');
  await world.startServer();
  await world.launchBrowser();
  const settings = { 'sharedFolders.coedit.enabled': false };
  alice = await world.user('alice', { settings });
  bob = await world.user('bob', { settings });
});

after(async () => {
  await world?.close();
});

/** Pause Sync or Resume Sync from the palette, then waits for the folder's row to say so. */
async function setPaused(user: User, paused: boolean): Promise<void> {
  const wb = wbOf(user);
  await wb.runCommand(paused ? 'Shared Folders: Pause Sync' : 'Shared Folders: Resume Sync');
  if (await wb.quickInputOpens(3_000)) await wb.pickMatching(/./);
  await wb.waitForRow(
    'Shared Folders',
    (r) => r.level === 1 && /paused/i.test(r.description) === paused && r.label !== '',
    paused ? 'the folder paused' : 'the folder resumed',
    SYNC_TIMEOUT,
  );
}

/**
 * The conflict row of `file` in the Shared Folders view, or undefined. A folder row that reports
 * a conflict but is collapsed (it was made before the conflict) is expanded first.
 */
async function conflictRow(wb: Workbench, file: string): Promise<string | undefined> {
  const rows = await wb.treeRows('Shared Folders');
  const row = rows.find((r) => r.label === file && /conflict/i.test(r.description));
  if (row) return row.description;
  const folder = rows.find((r) => r.level === 1 && /\bconflicts?\b/.test(r.description));
  const twistie = folder && wb.treeItem('Shared Folders', folder.label).locator('.monaco-tl-twistie.collapsed');
  if (twistie && (await twistie.count()) > 0) await twistie.first().click();
  return undefined;
}

/** Whether the Shared Folders view shows no conflict at all: no conflict row, no folder counting one. */
async function noConflictShown(wb: Workbench): Promise<boolean> {
  const rows = await wb.treeRows('Shared Folders');
  return !rows.some((r) => /\bconflicts?\b/i.test(r.description));
}

/** Whether the palette lists a command titled exactly `title` for what is typed; closes it again. */
async function paletteLists(wb: Workbench, title: string): Promise<boolean> {
  await wb.closeQuickInput();
  await wb.page.keyboard.press('F1');
  const input = wb.quickInput().locator('.quick-input-box input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await sleep(1_000); // the palette filters as it is typed
  const listed = (await wb.quickInputLabels()).includes(title);
  return listed;
}

/** The header texts of the merge editor's two inputs (title, description, detail), once both are shown. */
function mergeInputTitles(wb: Workbench): Promise<string[]> {
  return waitFor(
    'the titles of both inputs of the merge editor',
    async () => {
      const texts = await wb.page.locator('.merge-editor .code-view.input > .header').allInnerTexts();
      const t = texts.map((x) => x.replace(/\s+/g, ' ').trim());
      return t.length === 2 && t.every((x) => x !== '') ? t : undefined;
    },
    SYNC_TIMEOUT,
    300,
  );
}

/**
 * Shows `file` in the active editor: its tab when it has one, else through Quick Open, once more
 * if the list was still changing under the click (a conflict copy arriving) and opened another.
 */
async function showFile(wb: Workbench, file: string): Promise<void> {
  const tab = wb.page
    .locator('.tabs-container .tab')
    .filter({ has: wb.page.locator('.label-name', { hasText: new RegExp(`^\\s*${file.replace(/\./g, '\\.')}\\s*$`) }) });
  if ((await tab.count()) > 0) {
    await tab.first().click();
    await wb.activeEditorTab(file);
    return;
  }
  await wb.openFile(file).catch(() => wb.openFile(file));
}

/** The aria-labels of the active editor's title actions. */
async function editorActions(wb: Workbench): Promise<string[]> {
  const labels = await wb.page
    .locator('.editor-group-container.active .editor-actions .action-label')
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  return labels.filter((l) => l !== '');
}

/**
 * Both pause; `edit` changes `file` for alice, then (later by the clock, so bob's version wins the
 * total order and stays at the path, alice's goes to the copy) for bob; both resume. Waits for
 * the conflict copy on both disks and the conflict in both trees.
 */
async function makeConflict(file: string, edit: (user: User) => Promise<void>): Promise<void> {
  for (const user of [alice, bob]) await wbOf(user).focusView('Shared Folders');
  await setPaused(alice, true);
  await setPaused(bob, true);
  await edit(alice);
  await sleep(1_500);
  await edit(bob);
  await setPaused(alice, false);
  await setPaused(bob, false);
  await waitFor(
    'a conflict copy on both disks',
    () => conflictCopies(project).length === 1 && conflictCopies(bobFolder).length === 1,
    SYNC_TIMEOUT,
    500,
  );
  await waitFor("the conflict in alice's tree", () => conflictRow(wbOf(alice), file), SYNC_TIMEOUT, 500);
  await waitFor("the conflict in bob's tree", () => conflictRow(wbOf(bob), file), SYNC_TIMEOUT, 500);
}

/** Waits until `file` holds `text` on both disks and no conflict copy is left on either. */
async function settledOnBoth(file: string, text: string, what: string): Promise<void> {
  const read = (): { alice?: string; bob?: string } => ({
    alice: readIfExists(nodePath.join(project, file)),
    bob: readIfExists(nodePath.join(bobFolder, file)),
  });
  await waitFor(
    `${what} on both disks and no conflict copy left`,
    () => read().alice === text && read().bob === text && conflictCopies(project).length === 0 && conflictCopies(bobFolder).length === 0,
    SYNC_TIMEOUT,
    500,
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}; on disk: ${JSON.stringify({ ...read(), copies: [...conflictCopies(project), ...conflictCopies(bobFolder)] })}`,
    );
  });
}

test(
  'conflicts: a 3-way merge completed in the merge editor, choices where the user is, a resolution by the other side',
  { timeout: 10 * 60_000 },
  async () => {
    project = alice.folder('project');
    fs.writeFileSync(nodePath.join(project, PLAN), PLAN_BASE);
    fs.writeFileSync(nodePath.join(project, NOTES), NOTES_BASE);
    const bobWork = bob.folder('work');
    fs.writeFileSync(nodePath.join(bobWork, 'todo.txt'), 'bob\n');
    const bobWorkspace = nodePath.join(bob.home, 'bob.code-workspace');
    fs.writeFileSync(bobWorkspace, JSON.stringify({ folders: [{ path: 'work' }] }, null, 2));
    const bobNotes = (): string => nodePath.join(bobFolder, NOTES);

    await step('both open VS Code, set up, become contacts and share a folder', async () => {
      await alice.open(project);
      await bob.open(bobWorkspace);
      await setUp(alice);
      await setUp(bob);
      await becomeContacts(alice, bob);
      bobFolder = nodePath.dirname(await shareAndAccept(alice, bob, 'project', PLAN, PLAN_BASE, bobWork));
      await waitFor(`${NOTES} on bob's disk`, () => readIfExists(bobNotes()) === NOTES_BASE, SYNC_TIMEOUT, 500);
    });

    await step('(a) both pause, change the same line of plan.md and save; on resume it is a conflict', async () => {
      await makeConflict(PLAN, async (user) => {
        const wb = wbOf(user);
        await showFile(wb, PLAN);
        await wb.typeInEditor(user === alice ? PLAN_ALICE : PLAN_BOB, { replaceAll: true });
        await wb.save();
      });
      await wbOf(alice).shot('conflict on plan');
    });

    await step('(a) alice runs Merge…: the 3-way merge editor names whose each side is', async () => {
      const a = wbOf(alice);
      await showFile(a, PLAN);
      await a.runCommand('Shared Folders: Merge…');
      const editor = a.page.locator('.merge-editor');
      await editor.first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
      const titles = await mergeInputTitles(a);
      // Input 1 is theirs (bob's, now at the path), input 2 alice's own (the copy), each with when it was changed.
      assert.match(titles[0]!, /Theirs \(bob\).*changed .*\d/, titles[0]);
      assert.match(titles[1]!, /Yours \(alice\).*changed .*\d/, titles[1]);
      const inputs = (await a.page.locator('.merge-editor .code-view.input .view-lines').allInnerTexts()).map((x) =>
        x.replace(/\u00a0/g, ' '),
      );
      assert.ok(inputs[0]?.includes('final, bob signed off'), `bob's side in input 1: ${JSON.stringify(inputs)}`);
      assert.ok(inputs[1]?.includes('approved by alice'), `alice's side in input 2: ${JSON.stringify(inputs)}`);
      await a.shot('merge editor');
    });

    await step('(a) alice writes the merged line and completes the merge: both disks agree, no copy, no conflict', async () => {
      const a = wbOf(alice);
      const result = a.page.locator('.merge-editor .code-view.result .monaco-editor').first();
      await result.locator('.view-lines').click();
      await a.page.keyboard.press('Control+A');
      await a.page.keyboard.press('Delete');
      await a.page.keyboard.type(PLAN_MERGED, { delay: 5 });
      await a.shot('merge result written');
      const complete = a.page.locator('.merge-editor .monaco-button', { hasText: /Complete Merge/ }).first();
      if (await complete.isVisible()) await complete.click();
      else await a.runCommand('Merge Editor: Complete Merge');
      // A manual edit inside the conflict may still count as unhandled: complete it anyway.
      const dialog = a.page.locator('.monaco-dialog-box');
      if (
        await dialog.waitFor({ state: 'visible', timeout: 3_000 }).then(
          () => true,
          () => false,
        )
      )
        await a.clickDialogButton('Complete with Conflicts');
      await settledOnBoth(PLAN, PLAN_MERGED, 'the merged text');
      await waitFor("no conflict in alice's tree", () => noConflictShown(a), SYNC_TIMEOUT, 500);
      await waitFor("no conflict in bob's tree", () => noConflictShown(wbOf(bob)), SYNC_TIMEOUT, 500);
      assert.equal(await a.page.locator('.merge-editor').count(), 0, 'the merge editor closed');
      await a.shot('merged');
      await wbOf(bob).shot('merged by alice');
    });

    await step('(b) without a conflict, the palette has no Keep Mine', async () => {
      const b = wbOf(bob);
      assert.equal(await paletteLists(b, 'Shared Folders: Keep Mine'), false, 'Keep Mine is not in the palette');
      await b.shot('palette without a conflict');
      await b.closeQuickInput();
    });

    await step('(b) a second conflict, on notes.md', () =>
      makeConflict(NOTES, async (user) =>
        fs.writeFileSync(nodePath.join(user === alice ? project : bobFolder, NOTES), user === alice ? NOTES_ALICE : NOTES_BOB),
      ),
    );

    await step("(b) bob's editor title and palette offer the choices", async () => {
      const b = wbOf(bob);
      await b.clearNotifications();
      await showFile(b, NOTES);
      let actions: string[] = [];
      await waitFor(
        'the four choices in the editor title',
        async () => {
          actions = await editorActions(b);
          return ['Keep Mine', 'Take Theirs', 'Keep Both', 'Merge…'].every((x) => actions.some((l) => l.startsWith(x)));
        },
        SYNC_TIMEOUT,
        500,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; actions: ${JSON.stringify(actions)}`);
      });
      await b.shot('choices in the editor title');
      assert.equal(await paletteLists(b, 'Shared Folders: Keep Mine'), true, 'Keep Mine is in the palette while a conflict is open');
      await b.shot('palette with a conflict');
      await b.closeQuickInput();
    });

    await step('(c) the Explorer tooltip of the conflicted file says who changed it and when', async () => {
      const a = wbOf(alice);
      await a.openContainer('Explorer');
      const row = a.page
        .locator('.explorer-folders-view .monaco-list-row')
        .filter({ has: a.page.locator('.label-name', { hasText: /^\s*notes\.md\s*$/ }) })
        .first();
      await row.waitFor({ state: 'visible' });
      let tip = '';
      await waitFor(
        'the hover of notes.md naming bob and alice',
        async () => {
          await a.page.mouse.move(0, 0);
          await row.locator('.label-name').hover();
          const hover = a.page
            .locator('.workbench-hover, .monaco-hover')
            .filter({ hasText: /Conflict/ })
            .first();
          tip = await hover
            .waitFor({ state: 'visible', timeout: 3_000 })
            .then(() => hover.innerText())
            .catch(
              async () =>
                (await row
                  .locator('[title]')
                  .first()
                  .getAttribute('title')
                  .catch(() => null)) ?? '',
            );
          return /bob changed it at .*\d.*; you changed it at .*\d/.test(tip);
        },
        SYNC_TIMEOUT,
        500,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; tooltip: ${JSON.stringify(tip)}`);
      });
      await a.shot('explorer tooltip');
      await a.page.mouse.move(0, 0);
    });

    await step("(b) bob opens the diff; alice takes theirs; bob's diff closes and he is told", async () => {
      const b = wbOf(bob);
      await b.runCommand('Shared Folders: Resolve Conflict');
      await b.page.locator('.editor-group-container.active .monaco-diff-editor').waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
      await waitFor('the diff tab', async () => (await b.editorTabs()).some((t) => /their version ↔ yours/.test(t)), SYNC_TIMEOUT);
      await b.shot('diff open');
      const a = wbOf(alice);
      await a.runCommand('Shared Folders: Take Theirs');
      if (await a.quickInputOpens(3_000)) await a.pickMatching(/notes\.md/);
      // Bob's edit was later: it is at the path, alice's in the copy; "theirs" for alice is bob's.
      await settledOnBoth(NOTES, NOTES_BOB, "bob's text");
      await b.waitForNotification(/alice resolved the conflict on notes\.md/, SYNC_TIMEOUT);
      await waitFor('the diff tab closed', async () => !(await b.editorTabs()).some((t) => /their version ↔ yours/.test(t)), SYNC_TIMEOUT);
      await b.shot('resolved by alice');
      assert.equal(await paletteLists(b, 'Shared Folders: Keep Mine'), false, 'Keep Mine left the palette with the conflict');
      await b.closeQuickInput();
    });

    await step("(a) once more on plan.md: bob clicks Merge… in the editor title and takes alice's side whole", async () => {
      // The merged version of the first conflict is now the base both sides start from.
      await makeConflict(PLAN, async (user) =>
        fs.writeFileSync(nodePath.join(user === alice ? project : bobFolder, PLAN), user === alice ? PLAN_ALICE_AGAIN : PLAN_BOB_AGAIN),
      );
      const b = wbOf(bob);
      await b.clearNotifications();
      await showFile(b, PLAN);
      await b.clickEditorAction('Merge…');
      await b.page.locator('.merge-editor').first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
      // For bob the copy is alice's: input 1 (theirs) is the copy, input 2 (his) the file.
      const titles = await mergeInputTitles(b);
      assert.match(titles[0]!, /Theirs \(alice\).*changed .*\d/, titles[0]);
      assert.match(titles[1]!, /Yours \(bob\).*changed .*\d/, titles[1]);
      // The result starts as the file (bob's side taken); reset to the base first, so that
      // accepting the left side takes alice's version alone rather than combining both.
      await b.runCommand('Merge Editor: Reset Result');
      await b.runCommand('Merge Editor: Accept All Incoming Changes from Left');
      const result = b.page.locator('.merge-editor .code-view.result .view-lines').first();
      await waitFor(
        "alice's line alone in the result",
        async () => {
          const text = (await result.innerText()).replace(/\u00a0/g, ' ');
          return text.includes('on hold, says alice') && !text.includes('cancelled, says bob');
        },
        SYNC_TIMEOUT,
        300,
      );
      await b.shot('merge editor with theirs accepted');
      await b.runCommand('Merge Editor: Complete Merge');
      await settledOnBoth(PLAN, PLAN_ALICE_AGAIN, "alice's version");
      await waitFor("no conflict in bob's tree", () => noConflictShown(b), SYNC_TIMEOUT, 500);
      await waitFor("no conflict in alice's tree", () => noConflictShown(wbOf(alice)), SYNC_TIMEOUT, 500);
      await b.shot('merged with theirs');
    });

    await step('a binary conflict: Merge… falls back to the two-way diff', async () => {
      const bytes = (who: string): string => `${DATA} by ${who}\n\u0000\u0001\u0002\u0000`;
      fs.writeFileSync(nodePath.join(project, DATA), bytes('nobody'));
      await waitFor(`${DATA} on bob's disk`, () => fs.existsSync(nodePath.join(bobFolder, DATA)), SYNC_TIMEOUT, 500);
      await makeConflict(DATA, async (user) =>
        fs.writeFileSync(nodePath.join(user === alice ? project : bobFolder, DATA), bytes(user.name)),
      );
      const a = wbOf(alice);
      await a.runCommand('Shared Folders: Merge…');
      if (await a.quickInputOpens(3_000)) await a.pickMatching(/data\.bin/);
      // VS Code may show its binary-file notice inside the diff: the tab, by its title, is the diff's.
      await waitFor(
        'the diff tab',
        async () => (await a.editorTabs()).some((t) => /data\.bin: their version ↔ yours/.test(t)),
        SYNC_TIMEOUT,
      );
      assert.equal(await a.page.locator('.merge-editor').count(), 0, 'no merge editor for a binary file');
      await a.shot('binary conflict in the diff');
    });
  },
);
