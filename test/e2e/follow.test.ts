import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { World, type User } from './harness';
import { waitFor } from './processes';
import { becomeContacts, readIfExists, setUp, step as runStep, SYNC_TIMEOUT, wbOf } from './scenario';
import type { Workbench } from './workbench';

// Things follow what others do, prompts carry context, and remote cursors never move the text:
// alice shares 'docs' with bob, each in a real VS Code (code-server in headless Chromium) on a
// single-folder window. Bob accepts from the toast (which names the folder and alice) and is
// offered a new window rather than a reload; alice makes him a reader from his row's menu; bob
// follows alice and she sees it; her cursor's name floats over bob's text and fades; she closes
// her files and bob's following stops with the reason; she stops sharing and bob is told, by
// name. Screenshots go to test-artifacts/e2e/follow/.

const FOLDER = 'docs';
const NOTES = 'notes.md';
const PLAN = 'plan.md';
const CURSOR_LINE = 'shared line for the cursor test';
const NOTES_TEXT = `# Notes\n\n${CURSOR_LINE}\nlast line\n`;
/** NAME_SHOWN_MS in remote-cursor-marks.ts, and a margin for a loaded machine. */
const NAME_FADES_WITHIN_MS = 3_000 + 5_000;

let world: World;
let alice: User;
let bob: User;

const step = (name: string, body: () => Promise<void>): Promise<void> => runStep(world, name, body);

before(async () => {
  world = new World('follow');
  await world.startServer();
  await world.launchBrowser();
  alice = await world.user('alice');
  bob = await world.user('bob');
});

after(async () => {
  await world?.close();
});

/** The text of the status bar items. */
async function statusBarTexts(wb: Workbench): Promise<string[]> {
  const texts = await wb.page.locator('.part.statusbar .statusbar-item').allTextContents();
  return texts.map((t) => t.trim()).filter((t) => t !== '');
}

/** Expands a tree row that has children (clicking toggles it: a row revealed expanded would close). */
async function expandRow(wb: Workbench, view: string, label: string): Promise<void> {
  await wb.expandView(view);
  const row = wb.treeItem(view, label);
  await row.waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  await waitFor(`the row "${label}" to expand`, async () => (await row.getAttribute('aria-expanded')) === 'true', SYNC_TIMEOUT, 300);
}

/** Right-clicks a tree row and returns the labels of its context menu (left open). */
async function contextMenuOf(wb: Workbench, view: string, label: string): Promise<string[]> {
  await wb.expandView(view);
  await wb.treeItem(view, label).click({ button: 'right' });
  const menu = wb.page.locator('.context-view .monaco-menu');
  await menu.first().waitFor({ state: 'visible' });
  const labels = await menu.locator('.action-item .action-label').allTextContents();
  return labels.map((l) => l.trim()).filter((l) => l !== '');
}

/**
 * What bob's editor shows of the line at `index` (by position, top first): its text, the width
 * its text takes, and the names remote cursors show (CSS content of decorations, not text).
 */
async function renderedLine(page: Page, index: number): Promise<{ text: string; width: number; names: string[] }> {
  return page.evaluate((lineIndex) => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): ParentLike | null } }).document;
    interface ParentLike {
      querySelectorAll(s: string): ArrayLike<ElementLike>;
    }
    interface ElementLike extends ParentLike {
      textContent: string | null;
      style: { top: string };
      firstElementChild: ElementLike | null;
      getBoundingClientRect(): { width: number };
    }
    const view = globalThis as unknown as { getComputedStyle(el: unknown, pseudo: string): { content: string; display: string } };
    const editor = doc.querySelector('.editor-group-container.active .monaco-editor');
    if (!editor) return { text: '', width: -1, names: [] };
    const lines = Array.from(editor.querySelectorAll('.view-lines .view-line')).sort(
      (a, b) => parseFloat(a.style.top || '0') - parseFloat(b.style.top || '0'),
    );
    const line = lines[lineIndex];
    const names: string[] = [];
    for (const span of Array.from(editor.querySelectorAll('.view-lines span'))) {
      for (const pseudo of ['::before', '::after']) {
        const style = view.getComputedStyle(span, pseudo);
        if (style.content !== 'none' && style.content !== 'normal' && style.display !== 'none')
          names.push(style.content.replace(/^"|"$/g, ''));
      }
    }
    return {
      text: (line?.textContent ?? '').replace(/\u00a0/g, ' '),
      width: line?.firstElementChild?.getBoundingClientRect().width ?? -1,
      names,
    };
  }, index);
}

test(
  'following, prompts with context, floating cursor names and stop-sharing notices in real VS Code',
  { timeout: 10 * 60_000 },
  async () => {
    const docs = alice.folder(FOLDER);
    fs.writeFileSync(nodePath.join(docs, NOTES), NOTES_TEXT);
    fs.writeFileSync(nodePath.join(docs, PLAN), '# Plan\n\n' + Array.from({ length: 60 }, (_, i) => `step ${i + 1}`).join('\n') + '\n');
    const work = bob.folder('work');
    fs.writeFileSync(nodePath.join(work, 'todo.txt'), 'bob\n');
    const bobCopy = nodePath.join(bob.home, 'Shared Folders', FOLDER);

    await step('both open a single-folder window, set up and become contacts', async () => {
      await alice.open(docs);
      await bob.open(work);
      await setUp(alice);
      await setUp(bob);
      await becomeContacts(alice, bob);
    });

    await step('(a) the role prompt and the invitation name the folder and the people', async () => {
      const a = wbOf(alice);
      await a.runCommand('Shared Folders: Share Folder with Contact');
      await a.pick(FOLDER);
      await a.pickMany(['bob']);
      await a.waitForQuickInput('Editor');
      const rolePrompt = await a.quickInputPrompt();
      assert.match(rolePrompt, /Role of bob in 'docs'/, 'the role prompt says which folder is shared with whom');
      await a.shot('role prompt names folder and contact');
      await a.pick('Editor');
      await a.waitForRow('Shared Folders', (r) => r.label === FOLDER, 'the shared folder', SYNC_TIMEOUT);

      const b = wbOf(bob);
      const toast = await b.waitForNotification(/wants to share/, SYNC_TIMEOUT);
      assert.equal(toast, "alice wants to share the folder 'docs' with you.");
      await b.shot('invitation toast names folder and sharer');
    });

    await step('(a) accepting in a single-folder window offers a new window, not a reload', async () => {
      const b = wbOf(bob);
      await b.clickNotificationButton(/wants to share the folder 'docs'/, 'Accept');
      await b.waitForQuickInput("'docs' from alice");
      await b.pickMatching(/^(?!.*Choose Folder)/);
      await b.waitForQuickInput('Open in New Window');
      const offers = await b.quickInputLabels();
      assert.ok(offers.includes('Open in New Window'), `Open in New Window is offered: ${JSON.stringify(offers)}`);
      assert.ok(!offers.includes('Add to Workspace'), `a single-folder window is not turned into a workspace: ${JSON.stringify(offers)}`);
      await b.shot('accept offers open in new window');
      // The new window is a new page of bob's browser on the joined folder; this test goes on in the first one.
      const opened = b.page.context().waitForEvent('page', { timeout: SYNC_TIMEOUT });
      await b.pick('Open in New Window');
      const popup = await opened;
      await popup.waitForURL(/folder=/, { timeout: SYNC_TIMEOUT });
      const url = new URL(popup.url());
      assert.equal(url.searchParams.get('folder'), bobCopy, 'the new window opens the joined folder');
      await popup.close();
      await waitFor(`${NOTES} on bob's disk`, () => readIfExists(nodePath.join(bobCopy, NOTES)) === NOTES_TEXT, SYNC_TIMEOUT, 500);
      await b.waitForRow('Shared Folders', (r) => r.label === FOLDER, 'the joined folder', SYNC_TIMEOUT);
    });

    await step("(b) alice's member row offers Remove Member and Change Role; bob becomes a reader", async () => {
      const a = wbOf(alice);
      await expandRow(a, 'Shared Folders', FOLDER);
      await a.waitForRow('Shared Folders', (r) => r.label === 'bob' && /editor/.test(r.description), 'bob, editor', SYNC_TIMEOUT);
      const menu = await contextMenuOf(a, 'Shared Folders', 'bob');
      assert.ok(menu.includes('Remove Member'), `Remove Member in ${JSON.stringify(menu)}`);
      assert.ok(menu.includes('Change Role'), `Change Role in ${JSON.stringify(menu)}`);
      await a.shot('member menu for owner');
      await a.page
        .locator('.context-view .monaco-menu .action-item', { hasText: /^\s*Change Role\s*$/ })
        .first()
        .click();
      await a.waitForQuickInput("New role of bob in 'docs'");
      await a.pick('Reader');
      await a.waitForRow('Shared Folders', (r) => r.label === 'bob' && /reader/.test(r.description), 'bob, reader', SYNC_TIMEOUT);

      const b = wbOf(bob);
      await b.waitForRow('Shared Folders', (r) => r.label === FOLDER && /read-only/.test(r.description), 'docs read-only', SYNC_TIMEOUT);
      // A member who does not own the folder is not offered either.
      await expandRow(b, 'Shared Folders', FOLDER);
      await b.waitForRow('Shared Folders', (r) => r.label === 'alice', 'alice', SYNC_TIMEOUT);
      const bobsMenu = await contextMenuOf(b, 'Shared Folders', 'alice');
      assert.ok(
        !bobsMenu.includes('Remove Member') && !bobsMenu.includes('Change Role'),
        `not for non-owners: ${JSON.stringify(bobsMenu)}`,
      );
      await b.page.keyboard.press('Escape');
      await b.shot('bob is a reader');
    });

    await step('(c) bob follows alice, and alice sees that he does', async () => {
      const a = wbOf(alice);
      await a.openFile(NOTES);
      const b = wbOf(bob);
      await b.waitForRow(
        'Shared Folders',
        (r) => r.label === 'alice' && /in notes\.md/.test(r.description),
        'alice in notes.md',
        SYNC_TIMEOUT,
      );
      await b.clickInlineAction('Shared Folders', 'alice', 'Follow');
      await b.activeEditorTab(NOTES, SYNC_TIMEOUT);
      await waitFor(
        "'bob is following you' in alice's status bar",
        async () => (await statusBarTexts(a)).some((t) => t.includes('bob is following you')),
        SYNC_TIMEOUT,
        500,
      );
      await a.shot('bob is following you');
      await b.shot('following alice');
    });

    await step("(d) alice's cursor name floats over bob's text without moving it, and fades", async () => {
      const a = wbOf(alice);
      // Alice's caret in the middle of line 3: "shared|" – an inline name would push " line for…" right.
      await a.page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await a.page.keyboard.press('Control+Home');
      await a.page.keyboard.press('ArrowDown');
      await a.page.keyboard.press('ArrowDown');
      await a.page.keyboard.press('Home');
      for (let i = 0; i < 'shared'.length; i++) await a.page.keyboard.press('ArrowRight');
      const b = wbOf(bob);
      let shown = { text: '', width: -1, names: [] as string[] };
      await waitFor(
        "alice's name at her cursor in bob's editor",
        async () => {
          shown = await renderedLine(b.page, 2);
          return shown.names.includes('alice');
        },
        SYNC_TIMEOUT,
        150,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last seen: ${JSON.stringify(shown)}`);
      });
      await b.shot('alice cursor name floats');
      assert.equal(shown.text, CURSOR_LINE, 'the line reads exactly as in the file while the name shows');
      let faded = shown;
      const since = Date.now();
      await waitFor(
        "alice's name to fade in bob's editor",
        async () => {
          faded = await renderedLine(b.page, 2);
          return !faded.names.includes('alice');
        },
        NAME_FADES_WITHIN_MS,
        250,
      );
      process.stdout.write(`# the name faded ${Date.now() - since} ms after it was first seen\n`);
      await b.shot('alice cursor name faded');
      assert.equal(faded.text, CURSOR_LINE);
      assert.ok(shown.width > 0, 'the line has a width');
      // A decoration splits the line into more spans, which can round a fraction of a pixel
      // differently; an inline name would add a whole word's width (44 px for "alice").
      assert.ok(
        Math.abs(shown.width - faded.width) < 1,
        `the text took the same room with the name shown (${shown.width} px) as without (${faded.width} px): nothing moved`,
      );
    });

    await step("(c) alice closes her files: bob's following stops and says why", async () => {
      const a = wbOf(alice);
      const b = wbOf(bob);
      await a.openFile(PLAN);
      await b.activeEditorTab(PLAN, SYNC_TIMEOUT);
      await a.runCommand('View: Close All Editors');
      const said = await b.waitForNotification(/Stopped following alice/, SYNC_TIMEOUT);
      assert.equal(said, 'Stopped following alice: they closed plan.md.');
      await waitFor(
        "'bob is following you' to leave alice's status bar",
        async () => !(await statusBarTexts(a)).some((t) => t.includes('following you')),
        SYNC_TIMEOUT,
        500,
      );
      assert.ok(!(await statusBarTexts(b)).some((t) => t.includes('Following alice')), "bob's status bar no longer says Following alice");
      await b.shot('following stopped with reason');
    });

    await step('(e) alice stops sharing: bob is told by name, and Activity names the folder', async () => {
      const a = wbOf(alice);
      await a.clearNotifications();
      await wbOf(bob).clearNotifications();
      await a.runCommand('Shared Folders: Stop Sharing');
      if (await a.quickInputOpens(3_000)) await a.pick(FOLDER);
      await a.clickDialogButton('Stop Sharing');
      const b = wbOf(bob);
      const notice = await b.waitForNotification(/stopped sharing/, SYNC_TIMEOUT);
      assert.equal(notice, "alice stopped sharing 'docs' with you. Your copy stays where it is; it no longer syncs.");
      await b.shot('stop sharing notice');
      await b.openContainer('Shared Folders');
      await b.waitForRow('Activity', (r) => r.label === 'alice stopped sharing docs with you', 'the stop in Activity', SYNC_TIMEOUT);
      await b.shot('activity names the folder');
      await a.openContainer('Shared Folders');
      const row = await a.waitForRow('Activity', (r) => /stopped sharing/.test(r.label), 'the stop in Activity', SYNC_TIMEOUT);
      assert.equal(row.label, 'You stopped sharing docs');
      const rows = await a.treeRows('Activity');
      assert.ok(
        !rows.some((r) => /[0-9a-f]{8}/.test(r.label)),
        `no row names a space by its id: ${JSON.stringify(rows.map((r) => r.label))}`,
      );
      await a.shot('activity names the folder');
    });
  },
);
