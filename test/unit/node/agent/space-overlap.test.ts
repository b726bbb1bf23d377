import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { AccountError, FolderNotEmptyError } from '../../../../src/node/agent/account-error';
import { DeviceHome } from '../../../../src/node/agent/device-home';
import { checkShareTarget, isInside, planJoin } from '../../../../src/node/agent/space-overlap';

const DOCS = '1a2b3c4d'.repeat(4);
const OTHER = 'e'.repeat(32);

/** A home that syncs space DOCS at x/docs (with a marker and a file), in a fresh temporary folder. */
function world(): { x: string; home: DeviceHome; docs: string } {
  const x = fs.realpathSync(fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-overlap-')));
  const home = new DeviceHome(nodePath.join(x, 'home'));
  fs.mkdirSync(home.dir);
  const docs = nodePath.join(x, 'docs');
  fs.mkdirSync(nodePath.join(docs, '.shared-folder'), { recursive: true });
  fs.mkdirSync(nodePath.join(docs, 'sub'));
  fs.writeFileSync(nodePath.join(docs, 'a.txt'), 'a');
  home.putSpace({ id: DOCS, path: docs });
  return { x, home, docs };
}

function mkdir(...parts: string[]): string {
  const dir = nodePath.join(...parts);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

test('overlap: sharing a shared folder, one inside it, or one holding it is refused, naming the space', () => {
  const { x, home, docs } = world();
  assert.throws(() => checkShareTarget(home, docs), {
    message: `${docs} is already shared as "docs" (space ${DOCS}): there is nothing to share again`,
  });
  const sub = nodePath.join(docs, 'sub');
  assert.throws(() => checkShareTarget(home, sub), {
    message: `${sub} is inside the shared folder "docs" (space ${DOCS}): choose a folder outside it`,
  });
  assert.throws(() => checkShareTarget(home, x), {
    message: `${x} contains the shared folder "docs" (space ${DOCS}) at ${docs}: choose a folder that does not hold it`,
  });
  // The name its members gave it wins over the folder's name here.
  home.putSpaceName(DOCS, 'Reports');
  assert.throws(() => checkShareTarget(home, sub), /inside the shared folder "Reports" \(space 1a2b3c4d/);
});

test("overlap: the device's home is never shared, nor a folder holding it; its folders/ may hold spaces", () => {
  const { x, home } = world();
  fs.rmSync(nodePath.join(x, 'docs'), { recursive: true });
  home.removeSpace(DOCS);
  const message = `holds this device's home ${home.dir}: choose a folder that does not hold it`;
  assert.throws(() => checkShareTarget(home, x), { message: `${x} ${message}` });
  assert.throws(() => checkShareTarget(home, home.dir), { message: `${home.dir} ${message}` });
  assert.deepEqual(planJoin(home, OTHER, nodePath.join(home.dir, 'folders', 'a'), false), { kind: 'new', created: true });
});

test('overlap: /x/doc and /x/docs2 are beside /x/docs, not in it', () => {
  const { x, home } = world();
  checkShareTarget(home, mkdir(x, 'doc'));
  checkShareTarget(home, mkdir(x, 'docs2'));
  checkShareTarget(home, mkdir(x, 'docs2', 'deeper'));
  assert.equal(isInside('/x/docs2', '/x/docs'), false);
  assert.equal(isInside('/x/docs/a', '/x/docs'), true);
  assert.equal(isInside('/x/docs', '/x/docs'), false);
  assert.equal(isInside('/x/..docs', '/x'), true);
});

test('overlap: a symbolic link to a shared folder or into one is seen through', () => {
  const { x, home, docs } = world();
  fs.symlinkSync(docs, nodePath.join(x, 'link'));
  fs.symlinkSync(nodePath.join(docs, 'sub'), nodePath.join(x, 'sublink'));
  assert.throws(() => checkShareTarget(home, nodePath.join(x, 'link')), /is already shared as "docs"/);
  assert.throws(() => checkShareTarget(home, nodePath.join(x, 'sublink')), /is inside the shared folder "docs"/);
  assert.throws(() => planJoin(home, OTHER, nodePath.join(x, 'link', 'new'), false), /is inside the shared folder "docs"/);
  // The space's own folder reached through the link is where it already is.
  assert.deepEqual(planJoin(home, DOCS, nodePath.join(x, 'link'), false), { kind: 'same' });
});

test('overlap: markers of folders this home does not sync count too: at the folder, above it and below it', () => {
  const { x, home } = world();
  const foreign = mkdir(x, 'foreign', '.shared-folder');
  const root = nodePath.dirname(foreign);
  assert.throws(() => checkShareTarget(home, root), /already a shared folder \(it has a \.shared-folder folder/);
  const inner = mkdir(root, 'inner');
  assert.throws(() => checkShareTarget(home, inner), {
    message: `${inner} is inside the shared folder "foreign" at ${root}: choose a folder outside it`,
  });
  const outer = mkdir(x, 'outer');
  mkdir(outer, 'a', 'b', 'deep', '.shared-folder');
  assert.throws(() => checkShareTarget(home, outer), {
    message: `${outer} contains the shared folder "deep" at ${nodePath.join(outer, 'a', 'b', 'deep')}: choose a folder that does not hold it`,
  });
  assert.throws(() => planJoin(home, OTHER, nodePath.join(inner, 'new'), true), /is inside the shared folder "foreign"/);
});

test('overlap: a join goes into a missing or empty folder; one with files needs merge', () => {
  const { x, home } = world();
  assert.deepEqual(planJoin(home, OTHER, nodePath.join(x, 'fresh'), false), { kind: 'new', created: true });
  assert.deepEqual(planJoin(home, OTHER, mkdir(x, 'empty'), false), { kind: 'new', created: false });
  const full = mkdir(x, 'full');
  fs.writeFileSync(nodePath.join(full, 'mine.txt'), 'mine');
  const refused = (() => {
    try {
      planJoin(home, OTHER, full, false);
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  assert.ok(refused instanceof FolderNotEmptyError && refused instanceof AccountError);
  assert.equal(
    refused.message,
    `${full} already has files: add --merge to merge them with the shared folder (conflicting files keep both versions), or choose an empty folder`,
  );
  assert.deepEqual(planJoin(home, OTHER, full, true), { kind: 'new', created: false });
  fs.writeFileSync(nodePath.join(x, 'file'), '');
  assert.throws(() => planJoin(home, OTHER, nodePath.join(x, 'file'), true), /is a file, not a folder/);
  assert.throws(() => planJoin(home, OTHER, nodePath.join(x, 'docs'), true), /is already the shared folder "docs"/);
});

test('overlap: joining a space this device syncs elsewhere moves it, into a missing or empty folder only', () => {
  const { x, home, docs } = world();
  assert.deepEqual(planJoin(home, DOCS, docs, false), { kind: 'same' });
  assert.deepEqual(planJoin(home, DOCS, nodePath.join(x, 'moved'), false), { kind: 'move', from: docs });
  assert.deepEqual(planJoin(home, DOCS, mkdir(x, 'empty'), false), { kind: 'move', from: docs });
  const full = mkdir(x, 'full');
  fs.writeFileSync(nodePath.join(full, 'f'), '');
  assert.throws(() => planJoin(home, DOCS, full, true), /already has files: space 1a2b3c4d\w+ syncs into .*docs on this device/);
  assert.throws(() => planJoin(home, DOCS, nodePath.join(docs, 'sub'), false), /is inside the shared folder "docs"/);
  // Moved by hand: the old place is gone and the new one has the marker.
  fs.renameSync(docs, nodePath.join(x, 'by-hand'));
  assert.deepEqual(planJoin(home, DOCS, nodePath.join(x, 'by-hand'), false), { kind: 'moved' });
});
