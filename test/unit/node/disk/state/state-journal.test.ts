import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, test } from 'node:test';
import { StateJournal, StateLockedError } from '../../../../../src/node/disk/state/state-journal';
import type { FileRecord } from '../../../../../src/sync/model/file-record';
import type { PersistedState, StateChange } from '../../../../../src/sync/ports/ports';
import { CrashSwitch } from '../../../../sim/crash-switch';
import { MemoryStateStore } from '../../../../sim/memory-state-store';
import { Prng } from '../../../../sim/prng';
import { bareRecord } from '../../../sync/replica/engine-harness';

const base = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-journal-'));
let n = 0;
const freshDir = (): string => nodePath.join(base, `s${n++}`);
after(() => fs.rmSync(base, { recursive: true, force: true }));

function fileRecord(rng: Prng, path: string, sequence: number): FileRecord {
  const blocks = Array.from({ length: rng.int(4) }, () => ({ hash: rng.bytes(32), size: 1 + rng.int(100_000) }));
  return bareRecord(path, sequence, {
    type: 'file',
    size: blocks.reduce((s, b) => s + b.size, 0),
    mtime: 1_700_000_000_000 + rng.int(1e9),
    executable: rng.chance(0.2),
    hash: rng.bytes(32),
    blocks,
    version: [{ id: 'abc', counter: 1 + rng.int(1e6) }],
    ancestor: rng.chance(0.5) ? rng.bytes(32) : new Uint8Array(0),
    ...(rng.chance(0.5) ? { inode: 1 + rng.int(1e9) } : {}),
  });
}

function randomChange(rng: Prng, step: number): StateChange {
  const path = (): string => `d${rng.int(5)}/f${rng.int(40)}`;
  const records = Array.from({ length: rng.int(6) }, () => fileRecord(rng, path(), step));
  return {
    meta: { indexId: `id${rng.int(3)}`, sequence: step, counter: step * 10, paused: rng.chance(0.1) },
    records,
    removeRecords: rng.chance(0.3) ? [path()] : [],
    needed: rng.chance(0.4) ? [{ path: path(), ...(rng.chance(0.5) ? { onDisk: fileRecord(rng, path(), 0) } : {}) }] : [],
    removeNeeded: rng.chance(0.3) ? [path()] : [],
    deferred: rng.chance(0.2) ? [{ path: path(), records: [fileRecord(rng, path(), 0), fileRecord(rng, path(), 0)] }] : [],
    removeDeferred: rng.chance(0.2) ? [path()] : [],
    peers: rng.chance(0.5) ? [{ peer: `p${rng.int(3)}`, indexId: 'x', sequence: step }] : [],
  };
}

/** The state keeps an unknown inode as 0; a record made in memory may leave it out. */
function withInode(r: FileRecord): FileRecord {
  return { ...r, inode: r.inode ?? 0 };
}

/** Load results compare by content, whatever order the maps were filled in. */
function canonical(state: PersistedState | undefined): unknown {
  if (!state) return undefined;
  const byPath = <T extends { path: string }>(items: readonly T[]): T[] => [...items].sort((a, b) => (a.path < b.path ? -1 : 1));
  return {
    meta: state.meta,
    records: byPath(state.records.map(withInode)),
    needed: byPath(state.needed.map((n) => (n.onDisk ? { ...n, onDisk: withInode(n.onDisk) } : n))),
    deferred: byPath(state.deferred.map((d) => ({ ...d, records: d.records.map(withInode) }))),
    peers: [...state.peers].sort((a, b) => (a.peer < b.peer ? -1 : 1)),
  };
}

test('seeded random commits survive reopen and compaction exactly as the in-memory reference keeps them', async () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = new Prng(seed);
    const dir = freshDir();
    const reference = new MemoryStateStore(new CrashSwitch());
    let journal = await StateJournal.open(dir, { compactAfterBytes: 4_000, sync: 'none' });
    assert.equal(await journal.load(), undefined, 'a new state folder holds nothing');
    for (let step = 1; step <= 300; step++) {
      const change = randomChange(rng, step);
      await journal.commit(change);
      await reference.commit(change);
      if (rng.chance(0.05)) {
        await journal.close();
        journal = await StateJournal.open(dir, { compactAfterBytes: 4_000, sync: 'none' });
        assert.deepEqual(canonical(await journal.load()), canonical(await reference.load()), `seed ${seed}, after step ${step}`);
      }
    }
    assert.ok(journal.stats.generation > 3, `compactions happened (seed ${seed}): generation ${journal.stats.generation}`);
    await journal.close();
    journal = await StateJournal.open(dir);
    assert.deepEqual(canonical(await journal.load()), canonical(await reference.load()), `seed ${seed}, at the end`);
    await journal.close();
  }
});

test('a load in the process that compacted reads every record, whatever order compaction left the entries in', async () => {
  for (const seed of [21, 22, 23]) {
    const rng = new Prng(seed);
    const dir = freshDir();
    const reference = new MemoryStateStore(new CrashSwitch());
    // Opened once, never reopened: load() then meets locations a compaction renumbered, which need
    // not follow the order the paths were first set in.
    const journal = await StateJournal.open(dir, { compactAfterBytes: 2_000, sync: 'none' });
    for (let step = 1; step <= 120; step++) {
      const change = randomChange(rng, step);
      await journal.commit(change);
      await reference.commit(change);
      if (step % 20 === 0)
        assert.deepEqual(canonical(await journal.load()), canonical(await reference.load()), `seed ${seed}, step ${step}`);
    }
    assert.ok(journal.stats.compactions > 3, `compactions happened (seed ${seed}): ${journal.stats.compactions}`);
    await journal.close();
  }
});

test('a torn or corrupted last frame loses that commit only, and the journal goes on after it', async () => {
  const rng = new Prng(9);
  const first = randomChange(rng, 1);
  const second = randomChange(rng, 2);
  const third = randomChange(rng, 3);
  const template = freshDir();
  let j = await StateJournal.open(template);
  await j.commit(first);
  const goodLength = j.stats.journalBytes;
  await j.commit(second);
  const fullLength = j.stats.journalBytes;
  await j.close();
  const expectFirst = new MemoryStateStore(new CrashSwitch());
  await expectFirst.commit(first);
  const expectFirstThird = new MemoryStateStore(new CrashSwitch());
  await expectFirstThird.commit(first);
  await expectFirstThird.commit(third);

  const damaged: Array<[string, (file: string) => void]> = [];
  for (let cut = goodLength; cut < fullLength; cut += Math.max(1, Math.floor((fullLength - goodLength) / 40))) {
    damaged.push([`cut at ${cut}`, (file) => fs.truncateSync(file, cut)]);
  }
  for (const at of [goodLength + 2, goodLength + 6, fullLength - 1]) {
    damaged.push([
      `byte ${at} flipped`,
      (file) => {
        const bytes = fs.readFileSync(file);
        bytes[at] = bytes[at]! ^ 0x40;
        fs.writeFileSync(file, new Uint8Array(bytes));
      },
    ]);
  }
  for (const [what, damage] of damaged) {
    const dir = freshDir();
    fs.cpSync(template, dir, { recursive: true });
    damage(nodePath.join(dir, 'journal'));
    j = await StateJournal.open(dir);
    assert.deepEqual(canonical(await j.load()), canonical(await expectFirst.load()), `${what}: the state before the torn commit`);
    await j.commit(third);
    await j.close();
    j = await StateJournal.open(dir);
    assert.deepEqual(
      canonical(await j.load()),
      canonical(await expectFirstThird.load()),
      `${what}: a later commit follows the good frames`,
    );
    await j.close();
  }
});

test('a crash between writing a snapshot and starting its journal, or while writing it, loads correctly', async () => {
  const rng = new Prng(11);
  const dir = freshDir();
  const reference = new MemoryStateStore(new CrashSwitch());
  let j = await StateJournal.open(dir, { compactAfterBytes: 1 << 30 });
  for (let step = 1; step <= 50; step++) {
    const change = randomChange(rng, step);
    await j.commit(change);
    await reference.commit(change);
  }
  await j.close();
  const oldJournal = fs.readFileSync(nodePath.join(dir, 'journal'));
  // Reopen with a tiny threshold: the next commit compacts into generation 1.
  j = await StateJournal.open(dir, { compactAfterBytes: 10 });
  const last = randomChange(rng, 51);
  await j.commit(last);
  await reference.commit(last);
  assert.equal(j.stats.compactions, 1);
  await j.close();
  // As if the crash came after the snapshot's rename but before the new journal replaced the old one.
  fs.writeFileSync(nodePath.join(dir, 'journal'), new Uint8Array(oldJournal));
  // And a half-written snapshot of a later compaction.
  fs.writeFileSync(nodePath.join(dir, 'snapshot.tmp'), 'half');
  j = await StateJournal.open(dir);
  assert.deepEqual(canonical(await j.load()), canonical(await reference.load()));
  assert.equal(fs.existsSync(nodePath.join(dir, 'snapshot.tmp')), false, 'leftovers are cleared');
  await j.close();
});

test('one process per state folder; a lock left by a killed process is taken over', async () => {
  const dir = freshDir();
  const j = await StateJournal.open(dir);
  await assert.rejects(
    StateJournal.open(dir),
    (err: unknown) => err instanceof StateLockedError && /in use by process \d+/.test(String(err)),
  );
  await j.close();
  // A pid that cannot be running: the kernel's maximum plus one.
  const deadPid = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
  fs.writeFileSync(nodePath.join(dir, 'lock'), String(deadPid));
  const again = await StateJournal.open(dir);
  assert.equal(fs.readFileSync(nodePath.join(dir, 'lock'), 'utf8'), String(process.pid));
  await again.close();
});

test('a damaged snapshot is reported, never silently replaced by an empty state', async () => {
  const dir = freshDir();
  const j = await StateJournal.open(dir, { compactAfterBytes: 10 });
  await j.commit(randomChange(new Prng(3), 1));
  await j.close();
  const snapshot = nodePath.join(dir, 'snapshot');
  const bytes = fs.readFileSync(snapshot);
  bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 1;
  fs.writeFileSync(snapshot, new Uint8Array(bytes));
  await assert.rejects(StateJournal.open(dir), /state file .*snapshot is damaged/);
  assert.equal(fs.existsSync(nodePath.join(dir, 'lock')), false, 'a failed open leaves no lock behind');
});

test('the root id is kept with the meta; a reset replaces the whole state at once', async () => {
  const dir = freshDir();
  const rng = new Prng(19);
  let journal = await StateJournal.open(dir, { compactAfterBytes: 2_000 });
  const meta = { indexId: 'old', sequence: 5, counter: 50, paused: false, rootId: 'a'.repeat(32) };
  await journal.commit({
    meta,
    records: [fileRecord(rng, 'x', 1)],
    needed: [{ path: 'y' }],
    peers: [{ peer: 'p', indexId: 'q', sequence: 3 }],
  });
  for (let step = 2; step < 40; step++) await journal.commit({ records: [fileRecord(rng, `f${step}`, step)] });
  await journal.close();
  journal = await StateJournal.open(dir);
  assert.equal((await journal.load())?.meta.rootId, 'a'.repeat(32));
  const fresh = { indexId: 'new', sequence: 0, counter: 0, paused: false };
  await journal.reset(fresh);
  assert.deepEqual(await journal.load(), { meta: fresh, records: [], needed: [], deferred: [], peers: [] });
  await journal.commit({ meta: { ...fresh, rootId: 'b'.repeat(32) }, records: [fileRecord(rng, 'z', 1)] });
  await journal.close();
  journal = await StateJournal.open(dir);
  const loaded = await journal.load();
  assert.equal(loaded?.meta.rootId, 'b'.repeat(32));
  assert.deepEqual(
    loaded?.records.map((r) => r.path),
    ['z'],
    'nothing of the old state came back',
  );
  await journal.close();
});
