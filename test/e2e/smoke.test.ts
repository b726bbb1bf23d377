import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import { World, type User } from './harness';
import { waitFor } from './processes';

// One code-server with the packaged vsix: the workbench loads, the extension's activity bar item
// is there, clicking it shows the "Shared Folders" container with its four views, and the
// extension is up (its engine host started) and offers Set Up.

let world: World;
let alice: User;

before(async () => {
  world = new World('smoke');
  await world.startServer();
  await world.launchBrowser();
  alice = await world.user('alice');
});

after(async () => {
  await world?.close();
});

test('the packaged extension shows its container in a real VS Code', { timeout: 240_000 }, async () => {
  const project = alice.folder('project');
  fs.writeFileSync(nodePath.join(project, 'hello.txt'), 'hello\n');
  const wb = await alice.open(project);
  await wb.shot('workbench loaded');

  // The vsix is installed in this user's extensions folder, under the package's id.
  const installed = fs.readdirSync(alice.extensionsDir).filter((d) => d.startsWith('shared-folders.shared-folders-'));
  assert.equal(installed.length, 1, `extensions folder holds: ${fs.readdirSync(alice.extensionsDir).join(', ')}`);

  const item = wb.activityItem('Shared Folders');
  await item.waitFor({ state: 'visible', timeout: 60_000 });
  await wb.openContainer('Shared Folders');
  await wb.shot('shared folders container');

  assert.match(await wb.sidebarTitle(), /shared folders/i);
  const panes = await wb.paneNames();
  for (const view of ['Contacts', 'Shared Folders', 'Activity', 'Chat']) {
    assert.ok(
      panes.some((p) => p.toLowerCase() === view.toLowerCase()),
      `the container shows view "${view}"; it shows ${JSON.stringify(panes)}`,
    );
  }

  // The extension activated and its engine host started from the package: the welcome view
  // offers Set Up, and Set Up asks for a name.
  const welcome = await waitFor(
    'the Contacts view to offer Set Up',
    async () => {
      const text = await wb.welcomeText('Contacts');
      return /create your identity/i.test(text) ? text : undefined;
    },
    60_000,
    500,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}; it shows: ${JSON.stringify(await wb.welcomeText('Contacts'))}`);
  });
  assert.match(welcome, /Set Up/);
  await wb.clickWelcomeButton('Contacts', 'Set Up');
  await wb.waitForQuickInput('Set Up Shared Folders');
  assert.match(await wb.quickInputPrompt(), /your name/i);
  await wb.shot('set up asks for a name');
  await wb.inputText('alice', 'name');
  await wb.waitForNotification(/set up as alice/i, 60_000);

  // An invite link opened in VS Code (here by Developer: Open URL, as the OS does for a clicked
  // vscode:// link; code-server's scheme is code-oss) becomes a pending request at the top of Contacts.
  const dave = nodePath.join(world.dir, 'dave-cli');
  await world.cli(['init', '--home', dave, '--name', 'dave', '--server', world.serverUrl]);
  const code = await world.cli(['invite', '--home', dave]);
  await wb.openContainer('Shared Folders');
  await wb.runCommand('Developer: Open URL');
  await wb.inputText(`code-oss://shared-folders.shared-folders/invite?code=${encodeURIComponent(code)}`);
  // VS Code asks before it hands a URI to an extension.
  const dialog = wb.page.locator('.monaco-dialog-box');
  await dialog.waitFor({ state: 'visible', timeout: 30_000 });
  await wb.shot('vs code asks to open the link');
  await wb.clickDialogButton('Open');
  const pending = await wb.waitForRow(
    'Contacts',
    (r) => /^Contact request /.test(r.label) && /pending/i.test(r.description),
    'the pending request',
    60_000,
  );
  await wb.shot('invite link opened');
  await wb.clickInlineAction('Contacts', pending.label, 'Accept Contact Request');
  await wb.waitForRow('Contacts', (r) => r.label === 'dave', 'dave as a contact', 60_000);
  await wb.shot('contact from a link');

  // Back to the Explorer: the workspace folder is open, so the test drives the window it meant to.
  await wb.openContainer('Explorer');
  const rows = await wb.explorerRows();
  assert.ok(rows.includes('hello.txt'), `the Explorer shows ${JSON.stringify(rows)}`);
  await wb.shot('explorer');
});
