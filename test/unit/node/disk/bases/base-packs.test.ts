import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, test } from 'node:test';
import { BasePacks, PACK_MAGIC, type BaseToKeep } from '../../../../../src/node/disk/bases/base-packs';
import { StoreError } from '../../../../../src/sync/ports/ports';
import { Prng } from '../../../../sim/prng';

const made: string[] = [];
const tmp = (): string => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-base-packs-'));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A text base named by the SHA-256 of its bytes, so a test can check what comes back. */
function base(text: string): BaseToKeep {
  const data = new TextEncoder().encode(text);
  return { hash: crypto.createHash('sha256').update(data).digest('hex'), data };
}

/** Texts alike enough to compress, distinct enough to be separate bases. */
function texts(n: number, seed: number, size = 3000): BaseToKeep[] {
  const rng = new Prng(seed);
  const words = ['const', 'function', 'return', 'export', 'import', 'module', 'value', 'this', 'that', '=>', '{', '}'];
  const out: BaseToKeep[] = [];
  for (let i = 0; i < n; i++) {
    let s = `// file ${seed}-${i}\n`;
    while (s.length < size) s += `${words[rng.int(words.length)]} ${rng.int(1000)}${rng.int(8) === 0 ? '\n' : ' '}`;
    out.push(base(s));
  }
  return out;
}

const packFiles = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.pack'))
    .sort();

async function assertAllRead(packs: BasePacks, bases: readonly BaseToKeep[]): Promise<void> {
  for (const b of bases) assert.deepEqual(await packs.get(b.hash), b.data, `base ${b.hash.slice(0, 8)}`);
}

test('bases put in one call come back byte for byte, compressed together, and are listed', async () => {
  const dir = tmp();
  const packs = await BasePacks.open(dir);
  const bases = texts(50, 1);
  await packs.put(bases);
  await assertAllRead(packs, bases);
  assert.deepEqual(packs.list().sort(), bases.map((b) => b.hash).sort());
  const raw = bases.reduce((n, b) => n + b.data.length, 0);
  const usage = packs.usage();
  assert.equal(usage.bases, 50);
  assert.equal(usage.packs, 1);
  assert.ok(usage.bytes < raw / 2, `${usage.bytes} bytes on disk for ${raw} bytes of text`);
  assert.equal(await packs.get('0'.repeat(64)), undefined);
});

test('a base kept twice, in one call or two, is stored once', async () => {
  const dir = tmp();
  const packs = await BasePacks.open(dir);
  const bases = texts(5, 2);
  await packs.put([...bases, ...bases]);
  const once = packs.usage().bytes;
  await packs.put(bases);
  assert.equal(packs.usage().bytes, once);
  assert.equal(packs.usage().bases, 5);
  // Dropped and kept again before any compaction: no write either.
  await packs.drop([bases[0]!.hash]);
  await packs.put([bases[0]!]);
  assert.equal(packs.usage().bytes, once);
  assert.equal(packs.usage().deadBytes, 0);
  await assertAllRead(packs, bases);
});

test('an empty base and a content hash that is not one', async () => {
  const packs = await BasePacks.open(tmp());
  const empty = base('');
  await packs.put([empty]);
  assert.deepEqual(await packs.get(empty.hash), new Uint8Array(0));
  await assert.rejects(packs.put([{ hash: '../escape', data: new Uint8Array(1) }]), StoreError);
});

test('a reopened store finds every base by walking its packs, with chunks spread over several packs', async () => {
  const dir = tmp();
  const options = { chunkBytes: 8 * 1024, packBytes: 40 * 1024 };
  let packs = await BasePacks.open(dir, options);
  const bases = texts(200, 3);
  for (let i = 0; i < bases.length; i += 20) await packs.put(bases.slice(i, i + 20));
  assert.ok(packFiles(dir).length > 1, packFiles(dir).join(', '));
  packs = await BasePacks.open(dir, options);
  assert.equal(packs.usage().bases, 200);
  assert.equal(packs.usage().deadBytes, 0);
  await assertAllRead(packs, bases);
});

test('a chunk cut short by a crash is ignored: the rest stays readable and new bases go to a new pack', async () => {
  const dir = tmp();
  let packs = await BasePacks.open(dir, { chunkBytes: 64 * 1024 });
  const first = texts(10, 4);
  const torn = texts(3, 5);
  await packs.put(first);
  const [file] = packFiles(dir);
  const whole = fs.statSync(nodePath.join(dir, file!)).size;
  await packs.put(torn);
  const after = fs.statSync(nodePath.join(dir, file!)).size;
  // Every cut of the last chunk, from its first byte to one short of its end.
  for (const cut of [whole + 1, whole + 7, whole + 40, Math.floor((whole + after) / 2), after - 1]) {
    const copy = tmp();
    fs.copyFileSync(nodePath.join(dir, file!), nodePath.join(copy, file!));
    fs.truncateSync(nodePath.join(copy, file!), cut);
    packs = await BasePacks.open(copy, { chunkBytes: 64 * 1024 });
    assert.equal(packs.usage().bases, first.length, `cut at ${cut}`);
    await assertAllRead(packs, first);
    for (const b of torn) assert.equal(await packs.get(b.hash), undefined);
    const more = texts(4, 6);
    await packs.put([...torn, ...more]);
    assert.equal(packFiles(copy).length, 2, `a new pack after the torn one (cut at ${cut})`);
    await assertAllRead(packs, [...first, ...torn, ...more]);
    packs = await BasePacks.open(copy, { chunkBytes: 64 * 1024 });
    await assertAllRead(packs, [...first, ...torn, ...more]);
  }
});

test('a chunk whose bytes are damaged is forgotten when read; its neighbours and the store go on', async () => {
  const dir = tmp();
  let packs = await BasePacks.open(dir, { chunkBytes: 64 * 1024 });
  const a = texts(4, 7);
  const b = texts(4, 8);
  const c = texts(4, 9);
  await packs.put(a);
  const [file] = packFiles(dir);
  const abs = nodePath.join(dir, file!);
  const endOfA = fs.statSync(abs).size;
  await packs.put(b);
  const endOfB = fs.statSync(abs).size;
  await packs.put(c);
  // A flipped bit in the middle of b's payload.
  const bytes = new Uint8Array(fs.readFileSync(abs));
  bytes[endOfB - 10]! ^= 0x40;
  fs.writeFileSync(abs, bytes);
  packs = await BasePacks.open(dir, { chunkBytes: 64 * 1024 });
  assert.equal(packs.usage().bases, 12, 'a payload is checked when read, not on open');
  for (const x of b) assert.equal(await packs.get(x.hash), undefined);
  assert.equal(packs.usage().bases, 8);
  assert.ok(packs.usage().deadBytes >= endOfB - endOfA - 1);
  await assertAllRead(packs, [...a, ...c]);

  // A damaged header ends what is read of the pack: b and c are gone, a stays, and nothing throws.
  bytes[endOfA + 12]! ^= 0x01;
  fs.writeFileSync(abs, bytes);
  packs = await BasePacks.open(dir, { chunkBytes: 64 * 1024 });
  assert.deepEqual(packs.list().sort(), a.map((x) => x.hash).sort());
  await assertAllRead(packs, a);
  await packs.put(c);
  await assertAllRead(packs, [...a, ...c]);

  // A pack that vanished under the store: reads answer undefined.
  for (const name of packFiles(dir)) fs.rmSync(nodePath.join(dir, name));
  assert.equal(await packs.get(a[0]!.hash), undefined);
});

test('a file in the bases folder that is not a pack of this format is never read as one', async () => {
  const dir = tmp();
  fs.writeFileSync(nodePath.join(dir, '000001.pack'), 'not a pack at all, just text');
  const packs = await BasePacks.open(dir);
  assert.equal(packs.usage().bases, 0);
  const bases = texts(3, 10);
  await packs.put(bases);
  await assertAllRead(packs, bases);
  const names = packFiles(dir);
  assert.equal(names.length, 1);
  assert.notEqual(names[0], '000001.pack', 'the stray file was all dead and compacted away');
  assert.deepEqual([...fs.readFileSync(nodePath.join(dir, names[0]!)).subarray(0, 8)], [...PACK_MAGIC]);
});

test('a pack more than half dead is compacted into a new one, which a reopen reads', async () => {
  const dir = tmp();
  const options = { chunkBytes: 4096 };
  let packs = await BasePacks.open(dir, options);
  const bases = texts(40, 11);
  for (let i = 0; i < bases.length; i += 4) await packs.put(bases.slice(i, i + 4));
  const before = packs.usage();
  assert.deepEqual(packFiles(dir), ['000001.pack']);
  const keep = bases.filter((_, i) => i % 4 === 0);
  // A little under half: nothing moves yet.
  await packs.drop(bases.filter((_, i) => i % 4 === 1).map((b) => b.hash));
  assert.deepEqual(packFiles(dir), ['000001.pack']);
  assert.ok(packs.usage().deadBytes > 0);
  await packs.drop(bases.filter((_, i) => i % 4 > 1).map((b) => b.hash));
  await packs.idle();
  assert.deepEqual(packFiles(dir), ['000002.pack']);
  const after = packs.usage();
  assert.equal(after.bases, keep.length);
  assert.equal(after.deadBytes, 0);
  assert.ok(after.bytes < before.bytes / 2, `${after.bytes} of ${before.bytes} bytes`);
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')),
    [],
  );
  await assertAllRead(packs, keep);
  for (const b of bases.filter((_, i) => i % 4 !== 0)) assert.equal(await packs.get(b.hash), undefined);
  // Appends go on in the compacted pack.
  const more = texts(3, 12);
  await packs.put(more);
  assert.deepEqual(packFiles(dir), ['000002.pack']);
  packs = await BasePacks.open(dir, options);
  await assertAllRead(packs, [...keep, ...more]);
  // Dropping everything leaves no pack.
  await packs.drop(packs.list());
  await packs.idle();
  assert.deepEqual(packFiles(dir), []);
  assert.equal(packs.usage().bytes, 0);
});

test('dropped bases are listed again after a restart, until dropped again', async () => {
  const dir = tmp();
  let packs = await BasePacks.open(dir);
  const bases = texts(10, 13);
  await packs.put(bases);
  await packs.drop([bases[0]!.hash]);
  assert.equal(packs.usage().bases, 9);
  packs = await BasePacks.open(dir);
  assert.equal(packs.usage().bases, 10);
  await assertAllRead(packs, bases);
});

test('a compaction cut short by a crash: a temp pack is removed, and of two copies the newer is read', async () => {
  const dir = tmp();
  const options = { chunkBytes: 4096 };
  let packs = await BasePacks.open(dir, options);
  const bases = texts(20, 14);
  await packs.put(bases);
  // As if a compaction had renamed its new pack into place and died before deleting the old one.
  fs.copyFileSync(nodePath.join(dir, '000001.pack'), nodePath.join(dir, '000002.pack'));
  fs.writeFileSync(nodePath.join(dir, '000003.pack.tmp'), 'half a compaction');
  packs = await BasePacks.open(dir, options);
  await packs.idle();
  assert.deepEqual(fs.readdirSync(dir).sort(), ['000002.pack']);
  assert.equal(packs.usage().deadBytes, 0);
  await assertAllRead(packs, bases);
});

test('bases kept by an older version, one file each, move into the packs on open', async () => {
  const dir = tmp();
  const bases = texts(30, 15);
  for (const b of bases) fs.writeFileSync(nodePath.join(dir, b.hash), b.data);
  fs.writeFileSync(nodePath.join(dir, 'notes.txt'), 'not a base');
  const packs = await BasePacks.open(dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['000001.pack', 'notes.txt']);
  assert.equal(packs.usage().bases, 30);
  await assertAllRead(packs, bases);
  // Some moved, some not yet (a crash in the middle of a move): the rest move, none twice.
  const more = texts(5, 16);
  for (const b of [...bases.slice(0, 5), ...more]) fs.writeFileSync(nodePath.join(dir, b.hash), b.data);
  const bytes = packs.usage().bytes;
  const again = await BasePacks.open(dir);
  assert.equal(again.usage().bases, 35);
  assert.ok(again.usage().bytes > bytes);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['000001.pack', 'notes.txt']);
  await assertAllRead(again, [...bases, ...more]);
});

test('random puts, drops, damage and reopens: every listed base reads back whole or not at all', async () => {
  const seed = Number(process.env.SEED ?? crypto.randomInt(1, 2 ** 31));
  const rng = new Prng(seed);
  const dir = tmp();
  const options = { chunkBytes: 8192, packBytes: 64 * 1024 };
  let packs = await BasePacks.open(dir, options);
  const all = texts(300, seed % 1000, 1500);
  const live = new Set<string>();
  try {
    for (let step = 0; step < 200; step++) {
      const r = rng.int(10);
      if (r < 5) {
        const batch = Array.from({ length: rng.range(1, 12) }, () => all[rng.int(all.length)]!);
        await packs.put(batch);
        for (const b of batch) live.add(b.hash);
      } else if (r < 8) {
        const drop = [...live].filter(() => rng.int(3) === 0);
        await packs.drop(drop);
        for (const h of drop) live.delete(h);
      } else if (r < 9) {
        packs = await BasePacks.open(dir, options);
        // A restart lists dropped bases again: the caller drops them anew.
        await packs.drop(packs.list().filter((h) => !live.has(h)));
      } else {
        const names = packFiles(dir);
        if (names.length > 0) {
          const file = nodePath.join(dir, names[rng.int(names.length)]!);
          const bytes = new Uint8Array(fs.readFileSync(file));
          if (bytes.length > 8) {
            bytes[rng.range(8, bytes.length - 1)]! ^= 1 << rng.int(8);
            fs.writeFileSync(file, bytes);
          }
          packs = await BasePacks.open(dir, options);
          await packs.drop(packs.list().filter((h) => !live.has(h)));
        }
      }
      for (const b of all) {
        const got = await packs.get(b.hash);
        if (got === undefined) {
          live.delete(b.hash);
          continue;
        }
        assert.ok(live.has(b.hash), `step ${step}: a dropped base was read back`);
        assert.deepEqual(got, b.data, `step ${step}`);
      }
      assert.deepEqual(packs.list().sort(), [...live].sort(), `step ${step}`);
      // Reads that found damage leave dead bytes; the next drop compacts what is worth it.
      await packs.drop([]);
      await packs.idle();
      const usage = packs.usage();
      assert.ok(usage.deadBytes * 2 <= usage.bytes || usage.packs === 0, `step ${step}: ${JSON.stringify(usage)}`);
    }
  } catch (err) {
    console.log(`seed ${seed}: replay with SEED=${seed} node --test ${__filename}`);
    throw err;
  }
});

test('a bases folder that cannot be used: the store opens empty, and keeping a base fails with a StoreError', async () => {
  const file = nodePath.join(tmp(), 'bases');
  fs.writeFileSync(file, 'a file where the folder should be');
  const packs = await BasePacks.open(file);
  assert.deepEqual(packs.list(), []);
  await assert.rejects(packs.put(texts(2, 17)), StoreError);
  assert.equal(await packs.get(texts(1, 17)[0]!.hash), undefined);
  assert.equal(fs.readFileSync(file, 'utf8'), 'a file where the folder should be');
});
