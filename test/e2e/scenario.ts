import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { User, World } from './harness';
import { waitFor } from './processes';
import type { Workbench } from './workbench';

/** Sync goes through the server and two engine hosts on a shared machine: bounded, generously. */
export const SYNC_TIMEOUT = 60_000;

/** Runs one step of a scenario; on failure, screenshots every open window before rethrowing. */
export async function step(world: World, name: string, body: () => Promise<void>): Promise<void> {
  const started = Date.now();
  try {
    await body();
  } catch (err) {
    for (const user of world.users.values()) {
      await user.workbench?.shot(`failed-${name}`);
      process.stdout.write(`${user.diagnosis()}\n`);
    }
    throw new Error(`step "${name}" failed: ${(err as Error).message}`, { cause: err });
  }
  process.stdout.write(`# step "${name}" took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

export function wbOf(user: User): Workbench {
  if (!user.workbench) throw new Error(`${user.name} has no window open`);
  return user.workbench;
}

/** Shared Folders: Set Up, with the user's name. */
export async function setUp(user: User): Promise<void> {
  const wb = wbOf(user);
  await wb.openContainer('Shared Folders');
  await wb.runCommand('Shared Folders: Set Up');
  await wb.inputText(user.name, 'name');
  await wb.waitForNotification(new RegExp(`set up as ${user.name}`, 'i'), SYNC_TIMEOUT);
  await wb.shot('set up');
}

/** Files under `dir` whose name marks them as conflict copies. */
export function conflictCopies(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.conflict-/.test(nodePath.basename(f)) && !f.split(nodePath.sep).includes('.shared-folder'));
}

export function readIfExists(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The first file named `name` under `dir` (not in .shared-folder) that `accept` takes. */
export function findFile(dir: string, name: string, accept: (path: string) => boolean): string | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (nodePath.basename(entry) !== name || entry.split(nodePath.sep).some((p) => p === '.shared-folder' || p.startsWith('.'))) continue;
    const full = nodePath.join(dir, entry);
    if (accept(full)) return full;
  }
  return undefined;
}

/** `from` invites `to` as a contact with a code; `to` adds it; both wait to see the other online. */
export async function becomeContacts(from: User, to: User): Promise<void> {
  const a = wbOf(from);
  // An earlier invitation's toast would be read for this one's code.
  await a.clearNotifications();
  await a.runCommand('Shared Folders: Invite Contact');
  const text = await a.waitForNotification(/sf-invite-/, SYNC_TIMEOUT);
  const code = /sf-invite-[A-Za-z0-9_-]+/.exec(text)?.[0];
  if (!code) throw new Error(`no invite code in "${text}"`);
  const b = wbOf(to);
  await b.runCommand('Shared Folders: Add Contact');
  await b.inputText(code, 'invite');
  await b.waitForNotification(new RegExp(`${from.name} is now a contact`, 'i'), SYNC_TIMEOUT);
  await a.waitForRow('Contacts', (r) => r.label === to.name && /online/i.test(r.description), `${to.name} online`, SYNC_TIMEOUT);
  await b.waitForRow('Contacts', (r) => r.label === from.name && /online/i.test(r.description), `${from.name} online`, SYNC_TIMEOUT);
}

/**
 * `owner` shares its workspace folder `folderName` with `member` (role Editor); the member accepts
 * at the default location, in a window on a multi-root workspace. Returns where `probeFile` (a file
 * of the folder with `probeText`) landed on the member's disk, once its folder is in the Explorer.
 */
export async function shareAndAccept(
  owner: User,
  member: User,
  folderName: string,
  probeFile: string,
  probeText: string,
  notUnder: string,
): Promise<string> {
  await shareWith(owner, folderName, [member]);
  return acceptShare(owner, member, probeFile, probeText, notUnder);
}

/** `owner` shares its workspace folder `folderName` with `members` (role Editor): one folder for all of them. */
export async function shareWith(owner: User, folderName: string, members: readonly User[]): Promise<void> {
  const a = wbOf(owner);
  await a.runCommand('Shared Folders: Share Folder with Contact');
  await a.pick(folderName);
  await a.pickMany(members.map((m) => m.name));
  await a.pick('Editor');
  await a.waitForRow('Shared Folders', (r) => r.label === folderName, 'the shared folder', SYNC_TIMEOUT);
}

/**
 * `member` accepts `owner`'s shared folder at the default location, in a window on a multi-root
 * workspace. Returns where `probeFile` (with `probeText`) landed, once its folder is in the Explorer.
 */
export async function acceptShare(owner: User, member: User, probeFile: string, probeText: string, notUnder: string): Promise<string> {
  const b = wbOf(member);
  await b.runCommand('Shared Folders: Accept Shared Folder');
  await b.waitForQuickInput();
  if (/invitation|folder from/i.test((await b.quickInputLabels()).join(' '))) await b.pickMatching(new RegExp(owner.name, 'i'));
  await b.pickMatching(/^(?!Choose Folder)/);
  await b.pickMatching(/^add/i);
  const copy = await waitFor(
    `${probeFile} from ${owner.name} on ${member.name}'s disk`,
    () => findFile(member.home, probeFile, (p) => !p.startsWith(notUnder) && readIfExists(p) === probeText),
    SYNC_TIMEOUT,
    500,
  );
  const landed = nodePath.basename(nodePath.dirname(copy));
  await waitFor(
    `the shared folder "${landed}" in ${member.name}'s Explorer`,
    async () => {
      const w = wbOf(member);
      await w.openContainer('Explorer');
      return (await w.explorerRows()).includes(landed);
    },
    SYNC_TIMEOUT,
    1_000,
  );
  return copy;
}
