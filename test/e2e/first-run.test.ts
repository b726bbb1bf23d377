import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import { World, type User } from './harness';
import { freePort, waitFor } from './processes';
import { becomeContacts, setUp, shareWith, step as runStep, SYNC_TIMEOUT, wbOf } from './scenario';
import type { Workbench } from './workbench';

// First run and a server that goes away, as two people see them in real VS Code (code-server in
// headless Chromium): alice starts with a server address nobody listens on, is told why Set Up
// fails and fixes the address without retyping her name; then, with bob as a contact and a chat
// between them, the server stops and starts again; then the chat badge, Change Server and
// Reset Identity. Screenshots in test-artifacts/e2e/first-run/.

let world: World;
let alice: User;
let bob: User;
/** A port nobody listens on: alice's first server address. */
let deadPort = 0;

const step = (name: string, body: () => Promise<void>): Promise<void> => runStep(world, name, body);

before(async () => {
  world = new World('first-run');
  await world.startServer();
  await world.launchBrowser();
  deadPort = await freePort();
  alice = await world.user('alice', { settings: { 'sharedFolders.server': `ws://127.0.0.1:${deadPort}` } });
  bob = await world.user('bob');
});

after(async () => {
  await world?.close();
});

/** The number on the Shared Folders activity bar item ('' when it shows none). */
async function containerBadge(wb: Workbench): Promise<string> {
  const badge = wb.activityItem('Shared Folders').locator('xpath=..').locator('.badge .badge-content');
  if ((await badge.count()) === 0 || !(await badge.first().isVisible())) return '';
  return ((await badge.first().textContent()) ?? '').trim();
}

async function waitForBadge(wb: Workbench, expected: string, what: string): Promise<void> {
  let seen = '';
  await waitFor(
    `${what} on ${wb.user} (badge "${expected}")`,
    async () => {
      seen = await containerBadge(wb);
      return seen === expected;
    },
    SYNC_TIMEOUT,
    300,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; it shows "${seen}"`, { cause: err });
  });
}

/** Opens the Shared Folders container by its activity bar item, whose badge covers part of it. */
async function showSharedFolders(wb: Workbench): Promise<void> {
  if (/shared folders/i.test(await wb.sidebarTitle())) return;
  await wb.activityItem('Shared Folders').click({ force: true });
  await waitFor(`the Shared Folders container on ${wb.user}`, async () => /shared folders/i.test(await wb.sidebarTitle()), SYNC_TIMEOUT);
}

/** The message line a tree view shows above its rows ('' when none). */
async function viewMessage(wb: Workbench, view: string): Promise<string> {
  const pane = await wb.expandView(view);
  const message = pane.locator('.pane-body .message');
  if ((await message.count()) === 0 || !(await message.first().isVisible())) return '';
  return ((await message.first().innerText()) ?? '').trim();
}

/** The texts of the messages the chat webview lists. */
async function chatTexts(wb: Workbench): Promise<string[]> {
  return (await wb.webview().locator('li.message .body').allTextContents()).map((t) => t.trim());
}

async function chatNotice(wb: Workbench): Promise<string> {
  const notice = wb.webview().locator('.notice');
  if ((await notice.count()) === 0 || !(await notice.isVisible())) return '';
  return ((await notice.textContent()) ?? '').trim();
}

async function sendChat(wb: Workbench, text: string): Promise<void> {
  const box = wb.webview().locator('textarea').first();
  await box.click();
  await box.fill(text);
  await box.press('Enter');
  await wb.webview().getByText(text).first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
}

/** The quick input's validation message, once it shows one. */
async function validationMessage(wb: Workbench): Promise<string> {
  return waitFor(
    `a validation message on ${wb.user}`,
    async () => {
      const text = (
        (await wb
          .quickInput()
          .locator('.quick-input-message')
          .textContent()
          .catch(() => '')) ?? ''
      ).trim();
      return /starts with ws:\/\/ or wss:\/\//.test(text) ? text : undefined;
    },
    30_000,
  );
}

test('first run, an unreachable server, the chat badge, Change Server and Reset Identity', { timeout: 10 * 60_000 }, async () => {
  const project = alice.folder('project');
  fs.writeFileSync(nodePath.join(project, 'notes.md'), '# Notes\n');

  await step('alice sees that a server is needed', async () => {
    const wb = await alice.open(project);
    await wb.openContainer('Shared Folders');
    const welcome = await waitFor(
      'the set-up welcome in Contacts',
      async () => {
        const text = await wb.welcomeText('Contacts');
        return /needs a server/i.test(text) ? text : undefined;
      },
      SYNC_TIMEOUT,
    );
    assert.match(welcome, /Set Server Address/);
    assert.match(welcome, /How to Run a Server/);
    assert.match(welcome, /Set Up/);
    await wb.shot('welcome needs a server');
  });

  await step('Set Up against a dead address says the connection was refused', async () => {
    const wb = wbOf(alice);
    await wb.runCommand('Shared Folders: Set Up');
    await wb.inputText('alice', 'name');
    const text = await wb.waitForNotification(/could not reach the shared folders server/i, SYNC_TIMEOUT);
    assert.match(text, /connection refused/i);
    assert.match(text, new RegExp(`127\\.0\\.0\\.1:${deadPort}`));
    const toast = wb.page
      .locator('.notification-list-item')
      .filter({ has: wb.page.locator('.notification-list-item-message', { hasText: /connection refused/i }) })
      .first();
    const buttons = (await toast.locator('.monaco-button').allTextContents()).map((b) => b.trim());
    assert.ok(buttons.includes('Open Settings'), `Open Settings among ${JSON.stringify(buttons)}`);
    assert.ok(buttons.includes('Retry'), `Retry among ${JSON.stringify(buttons)}`);
    await wb.shot('set up refused');
    // Retry tries again with the same name, without asking: refused again, as nothing listens yet.
    await toast
      .locator('.monaco-button', { hasText: /^\s*Retry\s*$/ })
      .first()
      .click();
    assert.equal(await wb.quickInputOpens(2_000), false, 'Retry does not ask for the name again');
    // (Read in the notification centre: a toast raised from another toast's button does not always show as one here.)
    await waitFor(
      'the second refusal in the notification centre',
      async () => {
        const again = (texts: string[]): boolean => texts.some((t) => /connection refused.*\(attempt 2\)/i.test(t));
        if (again(await wb.notifications())) return true;
        await wb.runCommand('Notifications: Show Notifications');
        return again(await wb.notifications());
      },
      SYNC_TIMEOUT,
      2_000,
    );
    await wb.shot('retry refused again');
    // A new Set Up offers the name typed before.
    await wb.clearNotifications();
    await wb.runCommand('Shared Folders: Set Up');
    await wb.waitForQuickInput('name');
    assert.equal(await wb.quickInput().locator('.quick-input-box input').inputValue(), 'alice', 'the typed name is kept');
    await wb.closeQuickInput();
  });

  await step('alice sets the server address, checked as she types', async () => {
    const wb = wbOf(alice);
    await wb.runCommand('Shared Folders: Set Server Address');
    await wb.waitForQuickInput('server');
    const input = wb.quickInput().locator('.quick-input-box input');
    assert.equal(await input.inputValue(), `ws://127.0.0.1:${deadPort}`);
    await input.fill('http://127.0.0.1:1');
    assert.match(await validationMessage(wb), /The address starts with ws:\/\/ or wss:\/\//);
    await wb.shot('server address validated');
    await wb.inputText(world.serverUrl);
    await wb.waitForNotification(/server address set to/i);
  });

  await step('Set Up succeeds without retyping the name', async () => {
    const wb = wbOf(alice);
    await wb.clearNotifications();
    await wb.runCommand('Shared Folders: Set Up');
    await wb.waitForQuickInput('name');
    const input = wb.quickInput().locator('.quick-input-box input');
    assert.equal(await input.inputValue(), 'alice');
    await input.press('Enter');
    await wb.waitForNotification(/set up as alice/i, SYNC_TIMEOUT);
    await wb.shot('set up with the kept name');
  });

  await step('bob sets up and they become contacts', async () => {
    await bob.open(bob.folder('work'));
    await setUp(bob);
    await becomeContacts(alice, bob);
  });

  await step('alice shares her folder', async () => {
    await shareWith(alice, 'project', [bob]);
  });

  await step('bob gets a message while looking elsewhere: badge 1', async () => {
    const a = wbOf(alice);
    const b = wbOf(bob);
    // Bob has had the Shared Folders container open (Set Up), so his Chat view exists; now he is in the Explorer.
    await b.openContainer('Explorer');
    await a.runCommand('Shared Folders: Open Chat');
    await a.webview().locator('textarea').first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
    await sendChat(a, 'hello bob');
    await waitForBadge(b, '1', 'the unread message counted');
    await b.shot('chat badge 1');
  });

  await step('bob reads it: the badge goes, and stays gone after a reply and a switch of views', async () => {
    const b = wbOf(bob);
    await showSharedFolders(b);
    await b.expandView('Chat');
    await b.webview().getByText('hello bob').first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
    await waitForBadge(b, '', 'the read message no longer counted');
    await b.shot('chat read badge gone');
    await sendChat(b, 'hi alice');
    await wbOf(alice).webview().getByText('hi alice').first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
    await b.openContainer('Explorer');
    await showSharedFolders(b);
    assert.equal(await containerBadge(b), '', 'no badge after replying and switching views');
    await b.shot('badge still gone');
  });

  await step('the server stops: contacts and chat stay, marked offline', async () => {
    await world.stopServer();
    const a = wbOf(alice);
    await showSharedFolders(a);
    const row = await a.waitForRow(
      'Contacts',
      (r) => r.label === 'bob' && /last known/i.test(r.description),
      'bob last known',
      SYNC_TIMEOUT,
    );
    assert.match(row.description, /offline — last known/);
    const message = await waitFor(
      'the offline line above the contacts',
      async () => {
        const text = await viewMessage(a, 'Contacts');
        return /unreachable/i.test(text) ? text : undefined;
      },
      SYNC_TIMEOUT,
    );
    assert.match(message, /connection refused/i);
    const notice = await waitFor(
      'the offline notice in the chat',
      async () => {
        const text = await chatNotice(a);
        return /offline/i.test(text) ? text : undefined;
      },
      SYNC_TIMEOUT,
    );
    assert.match(notice, /retrying/i);
    assert.deepEqual(await chatTexts(a), ['hello bob', 'hi alice']);
    assert.ok(
      (await a.treeRows('Shared Folders')).some((r) => r.label === 'project'),
      'the shared folder is still listed while offline',
    );
    await a.shot('offline last known');
  });

  await step('the server is back: views reload, the chat keeps its history', async () => {
    await world.startServer();
    const a = wbOf(alice);
    await a.waitForRow('Contacts', (r) => r.label === 'bob' && /online/i.test(r.description), 'bob online again', 2 * SYNC_TIMEOUT);
    await waitFor('the offline line above the contacts to go', async () => (await viewMessage(a, 'Contacts')) === '', SYNC_TIMEOUT);
    await waitFor('the offline notice to go', async () => (await chatNotice(a)) === '', SYNC_TIMEOUT);
    await waitFor(
      'bob online again on his side',
      async () => (await wbOf(bob).treeRows('Contacts')).some((r) => r.label === 'alice' && /online/i.test(r.description)),
      2 * SYNC_TIMEOUT,
    );
    await sendChat(wbOf(bob), 'back online');
    await a.webview().getByText('back online').first().waitFor({ state: 'visible', timeout: SYNC_TIMEOUT });
    assert.deepEqual(await chatTexts(a), ['hello bob', 'hi alice', 'back online']);
    await a.shot('reconnected history kept');
  });

  await step('Change Server: a wrong address goes offline, the right one reconnects', async () => {
    const a = wbOf(alice);
    await a.runCommand('Shared Folders: Change Server');
    await a.waitForQuickInput('server');
    assert.equal(await a.quickInput().locator('.quick-input-box input').inputValue(), world.serverUrl);
    await a.inputText(`ws://127.0.0.1:${deadPort}`);
    await a.waitForRow('Contacts', (r) => r.label === 'bob' && /last known/i.test(r.description), 'bob last known', SYNC_TIMEOUT);
    await a.shot('changed to a dead server');
    await a.runCommand('Shared Folders: Change Server');
    await a.inputText(world.serverUrl, 'server');
    await a.waitForRow('Contacts', (r) => r.label === 'bob' && /online/i.test(r.description), 'bob online', 2 * SYNC_TIMEOUT);
    await a.waitForNotification(/now uses the server/i);
    await a.shot('changed back reconnected');
  });

  await step('Reset Identity: back to the welcome view, files stay on disk', async () => {
    const a = wbOf(alice);
    await a.runCommand('Shared Folders: Sign Out / Reset Identity');
    const dialog = a.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible' });
    assert.match((await dialog.innerText()) ?? '', /Nothing is deleted/);
    await a.shot('reset identity confirm');
    await a.clickDialogButton('Reset Identity');
    await waitFor('the set-up welcome after the reset', async () => /needs a server/i.test(await a.welcomeText('Contacts')), SYNC_TIMEOUT);
    assert.equal(fs.readFileSync(nodePath.join(project, 'notes.md'), 'utf8'), '# Notes\n');
    assert.ok(fs.existsSync(nodePath.join(project, '.shared-folder')), 'the shared folder keeps its marker');
    const storage = nodePath.join(alice.userDataDir, 'User', 'globalStorage', 'shared-folders.shared-folders');
    const previous = fs.readdirSync(nodePath.join(storage, 'previous-identities'));
    assert.equal(previous.length, 1);
    assert.ok(
      fs.existsSync(nodePath.join(storage, 'previous-identities', previous[0]!, 'identity.json')),
      'the old identity is kept aside',
    );
    assert.ok(!fs.existsSync(nodePath.join(storage, 'identity.json')), 'no identity in the home any more');
    await a.shot('reset welcome');
  });
});
