import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import { World, type User } from './harness';
import { waitFor } from './processes';
import { conflictCopies, findFile, readIfExists, setUp, shareWith, step as runStep, SYNC_TIMEOUT, wbOf } from './scenario';
import type { Workbench } from './workbench';

// Two people, alice and bob, each in their own real VS Code (code-server in headless Chromium),
// one rendezvous server on loopback. Everything goes through the UI a person uses: the palette,
// quick inputs, tree views, notifications, editors and the chat webview. Each step leaves a
// screenshot in test-artifacts/e2e/share/.

const FILE = 'notes.md';
const FIRST_TEXT = '# Notes\n\nhello from alice\n';

let world: World;
let alice: User;
let bob: User;

const step = (name: string, body: () => Promise<void>): Promise<void> => runStep(world, name, body);

before(async () => {
  world = new World('share');
  await world.startServer();
  await world.launchBrowser();
  alice = await world.user('alice');
  bob = await world.user('bob');
});

after(async () => {
  await world?.close();
});

/** Opens the chat webview, picking the conversation when asked; returns its content frame. */
async function openChat(wb: Workbench, withWhom: string): Promise<ReturnType<Workbench['webview']>> {
  await wb.runCommand('Shared Folders: Open Chat');
  // With one conversation it opens at once; otherwise a QuickPick lists contacts and folders' groups.
  if (await wb.quickInputOpens(3_000)) await wb.pickMatching(new RegExp(`^${withWhom}$`));
  const frame = wb.webview();
  await frame.locator('textarea, input[type="text"]').first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
  return frame;
}

async function sendChat(wb: Workbench, frame: ReturnType<Workbench['webview']>, text: string): Promise<void> {
  const box = frame.locator('textarea, input[type="text"]').first();
  await box.click();
  await box.fill(text);
  await box.press('Enter');
  await frame.getByText(text, { exact: false }).first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
  await wb.shot(`chat sent`);
}

test('two people share a folder, edit, chat and resolve a conflict in real VS Code', { timeout: 20 * 60_000 }, async () => {
  const project = alice.folder('project');
  fs.writeFileSync(nodePath.join(project, FILE), FIRST_TEXT);
  const bobWork = bob.folder('work');
  fs.writeFileSync(nodePath.join(bobWork, 'todo.txt'), 'bob\n');
  // Bob works in a multi-root workspace, so adding the shared folder edits his workspace file. (In
  // a single-folder window VS Code turns the window into an untitled workspace and reloads it;
  // code-server then now and then loads the new workspace before its folders are written.)
  const bobWorkspace = nodePath.join(bob.home, 'bob.code-workspace');
  fs.writeFileSync(bobWorkspace, JSON.stringify({ folders: [{ path: 'work' }] }, null, 2));
  let bobCopy = '';

  await step('both open VS Code', async () => {
    await alice.open(project);
    await bob.open(bobWorkspace);
    await wbOf(alice).shot('workbench');
    await wbOf(bob).shot('workbench');
  });

  await step('alice sets up', () => setUp(alice));
  await step('bob sets up', () => setUp(bob));

  let code = '';
  await step('alice invites a contact', async () => {
    const wb = wbOf(alice);
    await wb.runCommand('Shared Folders: Invite Contact');
    const text = await wb.waitForNotification(/sf-invite-/, SYNC_TIMEOUT);
    code = /sf-invite-[A-Za-z0-9_-]+/.exec(text)?.[0] ?? '';
    assert.ok(code.length > 20, `an invite code in "${text}"`);
    await wb.shot('invite code');
  });

  await step('bob adds alice with the code', async () => {
    const wb = wbOf(bob);
    await wb.runCommand('Shared Folders: Add Contact');
    await wb.inputText(code, 'invite');
    await wb.waitForNotification(/alice is now a contact/i, SYNC_TIMEOUT);
    await wb.shot('contact added');
  });

  await step('both see each other online in Contacts', async () => {
    await wbOf(alice).waitForRow('Contacts', (r) => r.label === 'bob' && /online/i.test(r.description), 'bob online', SYNC_TIMEOUT);
    await wbOf(bob).waitForRow('Contacts', (r) => r.label === 'alice' && /online/i.test(r.description), 'alice online', SYNC_TIMEOUT);
    await wbOf(alice).shot('contacts');
    await wbOf(bob).shot('contacts');
  });

  await step('alice shares her folder with bob as an editor', async () => {
    await shareWith(alice, 'project', [bob]);
    await wbOf(alice).shot('shared');
  });

  await step('bob accepts and the folder lands in his workspace', async () => {
    const wb = wbOf(bob);
    await wb.runCommand('Shared Folders: Accept Shared Folder');
    await wb.waitForQuickInput();
    // Several invitations would be listed first; then where the folder lands: the default location.
    if (/invitation|folder from/i.test((await wb.quickInputLabels()).join(' '))) await wb.pickMatching(/alice/i);
    await wb.shot('accept location');
    const location = await wb.pickMatching(/^(?!Choose Folder)/);
    await wb.pickMatching(/^add/i);
    // The file arrives on disk under bob's home (the default location is there) ...
    bobCopy = await waitFor(
      `${FILE} from alice on bob's disk (after picking "${location}")`,
      () => findFile(bob.home, FILE, (p) => !p.startsWith(bobWork) && readIfExists(p) === FIRST_TEXT),
      SYNC_TIMEOUT,
      500,
    );
    // ... and the folder is a root of his workspace in the Explorer.
    const folderName = nodePath.basename(nodePath.dirname(bobCopy));
    const now = await waitFor(
      `the shared folder "${folderName}" in bob's Explorer`,
      async () => {
        const w = wbOf(bob);
        await w.openContainer('Explorer');
        return (await w.explorerRows()).includes(folderName) ? w : undefined;
      },
      SYNC_TIMEOUT,
      1_000,
    );
    await now.shot('explorer with shared folder');
  });

  await step("a file alice saves shows up in bob's editor", async () => {
    const a = wbOf(alice);
    await a.openFile(FILE);
    await a.typeInEditor('\nsaved by alice\n');
    await a.save();
    await a.shot('alice saved');
    await waitFor("alice's save on bob's disk", () => readIfExists(bobCopy)?.includes('saved by alice'), SYNC_TIMEOUT, 500);
    const b = wbOf(bob);
    await b.openFile(FILE);
    const text = await b.waitForEditorText((t) => t.includes('saved by alice'), "alice's line", SYNC_TIMEOUT);
    assert.match(text, /hello from alice/);
    await b.shot('bob sees the edit');
  });

  await step('chat goes both ways', async () => {
    const chatA = await openChat(wbOf(alice), 'bob');
    await sendChat(wbOf(alice), chatA, 'hi bob, the notes are in');
    const chatB = await openChat(wbOf(bob), 'alice');
    await chatB.getByText('hi bob, the notes are in').first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
    await sendChat(wbOf(bob), chatB, 'thanks alice, reading them now');
    await chatA.getByText('thanks alice, reading them now').first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
    await wbOf(alice).shot('chat');
    await wbOf(bob).shot('chat');
  });

  await step('bob pauses sync and edits offline', async () => {
    const b = wbOf(bob);
    await b.runCommand('Shared Folders: Pause Sync');
    if (await b.quickInputOpens(3_000)) await b.pickMatching(/./);
    await b.waitForRow('Shared Folders', (r) => /paused/i.test(r.description + ' ' + r.ariaLabel), 'the folder paused', SYNC_TIMEOUT);
    await b.openFile(FILE);
    await b.typeInEditor('edited by bob while offline\n');
    await b.save();
    await b.shot('bob edited offline');
  });

  await step('bob closes his window; alice edits the same file and writes to him', async () => {
    await bob.stop();
    const a = wbOf(alice);
    await a.openFile(FILE);
    await a.typeInEditor('edited by alice meanwhile\n');
    await a.save();
    // This time from the Contacts view: the inline Chat action on bob's row (he shows offline).
    await a.waitForRow('Contacts', (r) => r.label === 'bob' && /offline/i.test(r.description), 'bob offline', SYNC_TIMEOUT);
    await a.clickInlineAction('Contacts', 'bob', 'Chat');
    const chat = a.webview();
    await sendChat(a, chat, 'bob, I changed the notes while you were away');
    await a.shot('alice edited and wrote while bob was away');
  });

  await step('bob reopens VS Code and reads the message sent while he was away', async () => {
    await bob.reopen();
    const b = wbOf(bob);
    await b.openContainer('Shared Folders');
    // Signed in again: his contact is listed (and online) before he opens the chat.
    await b.waitForRow('Contacts', (r) => r.label === 'alice' && /online/i.test(r.description), 'alice online', SYNC_TIMEOUT);
    const chat = await openChat(b, 'alice');
    await chat.getByText('bob, I changed the notes while you were away').first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
    await b.shot('message from while he was away');
    // The Activity view of the new window shows what happened before it: the host keeps the feed.
    await b.waitForRow('Activity', (r) => /alice changed notes\.md/.test(r.label), "alice's earlier change", SYNC_TIMEOUT);
    // Read back from the host, the invitation is still one for bob, not one bob saw alice get.
    await b.waitForRow(
      'Activity',
      (r) => /alice invited you to a shared folder/.test(r.label),
      "alice's invitation, as one for bob",
      SYNC_TIMEOUT,
    );
  });

  await step('bob resumes sync and the concurrent edits are a conflict', async () => {
    const b = wbOf(bob);
    const bobFolder = nodePath.dirname(bobCopy);
    // Paused is kept over the restart; he resumes with the folder row's inline action.
    const folderName = nodePath.basename(bobFolder);
    await b.waitForRow(
      'Shared Folders',
      (r) => r.label === folderName && /paused/i.test(r.description),
      'the folder still paused',
      SYNC_TIMEOUT,
    );
    await b.clickInlineAction('Shared Folders', folderName, 'Resume Sync');
    await b.waitForRow(
      'Shared Folders',
      (r) => r.label === folderName && !/paused/i.test(r.description),
      'the folder resumed',
      SYNC_TIMEOUT,
    );
    await waitFor(
      'a conflict copy on both sides',
      () => conflictCopies(bobFolder).length > 0 && conflictCopies(project).length > 0,
      SYNC_TIMEOUT,
      500,
    );
    await b.shot('conflict');
  });

  await step('bob resolves the conflict with Keep Mine', async () => {
    const b = wbOf(bob);
    await b.runCommand('Shared Folders: Resolve Conflict');
    if (await b.quickInputOpens(3_000)) await b.pickMatching(new RegExp(FILE.replace('.', '\\.')));
    await b.page.locator('.editor-group-container.active .monaco-diff-editor').waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
    // The diff shows both versions, and the side it calls bob's ("your version") holds bob's edit.
    const title = await waitFor(
      "the conflict diff's title",
      async () => {
        const t = (await b.editorTabs()).find((x) => /version/.test(x));
        return t;
      },
      SYNC_TIMEOUT,
    );
    const yoursLeft = /your version ↔ theirs/.test(title);
    assert.ok(yoursLeft || /their version ↔ yours/.test(title), `the diff's title says whose side is whose: ${title}`);
    let sides = { left: '', right: '' };
    const bobsSide = () => (yoursLeft ? sides.left : sides.right);
    const alicesSide = () => (yoursLeft ? sides.right : sides.left);
    await waitFor(
      'both versions in the diff',
      async () => {
        sides = { left: await b.editorText('original'), right: await b.editorText('modified') };
        return /edited by bob while offline/.test(bobsSide()) && /edited by alice meanwhile/.test(alicesSide());
      },
      SYNC_TIMEOUT,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; "${title}" shows ${JSON.stringify(sides)}`);
    });
    assert.doesNotMatch(bobsSide(), /edited by alice meanwhile/);
    await b.shot('conflict diff');
    await b.clickEditorAction('Keep Mine');
    const bobFolder = nodePath.dirname(bobCopy);
    const mine = (text: string | undefined): boolean =>
      !!text && text.includes('edited by bob while offline') && !text.includes('edited by alice meanwhile');
    const settled = (): boolean =>
      mine(readIfExists(bobCopy)) &&
      mine(readIfExists(nodePath.join(project, FILE))) &&
      conflictCopies(bobFolder).length === 0 &&
      conflictCopies(project).length === 0;
    await waitFor("bob's version on both disks and no conflict copy left", settled, SYNC_TIMEOUT, 500).catch((err: Error) => {
      const state = {
        bob: readIfExists(bobCopy),
        alice: readIfExists(nodePath.join(project, FILE)),
        bobCopies: conflictCopies(bobFolder),
        aliceCopies: conflictCopies(project),
      };
      throw new Error(`${err.message}; on disk: ${JSON.stringify(state)}`);
    });
    assert.equal(readIfExists(bobCopy), readIfExists(nodePath.join(project, FILE)));
    await b.shot('resolved');
    await wbOf(alice).shot('resolved');
  });
});
