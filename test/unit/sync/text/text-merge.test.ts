// Three-way merge properties. fast-check prints `seed` and `path` of any failure; replay it with
//   FC_SEED=<seed> FC_PATH=<path> node --test out/test/unit/sync/text/text-merge.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { utf8 } from '../../../../src/sync/util/bytes';
import { isMergeableText, mergeText, type TextMergeResult } from '../../../../src/sync/text/text-merge';
import { applyHunks, diffHunks } from '../../../../src/sync/text/text-diff';

const replay: Parameters<typeof fc.assert>[1] =
  process.env.FC_SEED !== undefined ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {};

/**
 * One place in the base where something happens. The base is made of distinct characters and
 * each side inserts from its own alphabet, so the diff of either side can only find the edits
 * that were made, and the test knows exactly what the merge must produce.
 */
type Slot =
  | { kind: 'ours' | 'theirs' | 'same'; length: number; del: [number, number]; text: string }
  | { kind: 'conflict'; length: number; ours: [number, number]; oursText: string; theirs: [number, number]; theirsText: string };

const lower = fc.string({ unit: fc.constantFrom(...'abcdefghij'), maxLength: 4 });
const upper = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJ'), maxLength: 4 });

/** A range inside a slot of `length` units. */
const range = (length: number): fc.Arbitrary<[number, number]> =>
  fc.tuple(fc.nat(length), fc.nat(length)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]);

const oneSided = (kind: 'ours' | 'theirs' | 'same'): fc.Arbitrary<Slot> =>
  fc
    .integer({ min: 0, max: 4 })
    .chain((length) => fc.record({ length: fc.constant(length), del: range(length), text: kind === 'theirs' ? upper : lower }))
    .filter((s) => s.del[1] > s.del[0] || s.text.length > 0)
    .map((s) => ({ kind, ...s }));

/** Both sides change ranges that overlap or touch; ours always inserts, so the two never agree. */
const conflicting: fc.Arbitrary<Slot> = fc
  .integer({ min: 0, max: 4 })
  .chain((length) =>
    fc.record({
      length: fc.constant(length),
      ours: range(length),
      oursText: lower.filter((t) => t.length > 0),
      theirs: range(length),
      theirsText: upper,
    }),
  )
  .filter((s) => s.ours[0] <= s.theirs[1] && s.theirs[0] <= s.ours[1])
  .filter((s) => s.theirs[1] > s.theirs[0] || s.theirsText.length > 0)
  .map((s) => ({ kind: 'conflict' as const, ...s }));

/** Longer than any edit, so semantic cleanup never folds two edits of one side into one hunk. */
const GAP = 6;

interface Scenario {
  base: string;
  ours: string;
  theirs: string;
  /** Both sides' changes where they do not conflict, ours where they do. */
  keepingOurs: string;
  keepingTheirs: string;
  conflicts: { oursText: string; theirsText: string }[];
}

function build(slots: Slot[], gaps: number[]): Scenario {
  let next = 0x4e00;
  const fresh = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(next++);
    return s;
  };
  const out: Scenario = { base: '', ours: '', theirs: '', keepingOurs: '', keepingTheirs: '', conflicts: [] };
  const append = (base: string, ours: string, theirs: string, keepingOurs: string, keepingTheirs: string): void => {
    out.base += base;
    out.ours += ours;
    out.theirs += theirs;
    out.keepingOurs += keepingOurs;
    out.keepingTheirs += keepingTheirs;
  };
  const edit = (region: string, [from, to]: [number, number], text: string): string => region.slice(0, from) + text + region.slice(to);
  slots.forEach((slot, i) => {
    const gap = fresh(gaps[i]!);
    append(gap, gap, gap, gap, gap);
    const region = fresh(slot.length);
    switch (slot.kind) {
      case 'ours': {
        const o = edit(region, slot.del, slot.text);
        append(region, o, region, o, o);
        break;
      }
      case 'theirs': {
        const t = edit(region, slot.del, slot.text);
        append(region, region, t, t, t);
        break;
      }
      case 'same': {
        const both = edit(region, slot.del, slot.text);
        append(region, both, both, both, both);
        break;
      }
      case 'conflict': {
        const o = edit(region, slot.ours, slot.oursText);
        const t = edit(region, slot.theirs, slot.theirsText);
        append(region, o, t, o, t);
        out.conflicts.push({ oursText: slot.oursText, theirsText: slot.theirsText });
        break;
      }
    }
  });
  const tail = fresh(gaps[slots.length]!);
  append(tail, tail, tail, tail, tail);
  return out;
}

const scenario = (slot: fc.Arbitrary<Slot>): fc.Arbitrary<Scenario> =>
  fc.array(slot, { minLength: 1, maxLength: 8 }).chain((slots) =>
    fc
      .array(fc.integer({ min: GAP, max: GAP + 10 }), { minLength: slots.length + 1, maxLength: slots.length + 1 })
      // The text may start or end with an edit: only the outer gaps may be empty.
      .chain((gaps) => fc.tuple(fc.nat(GAP), fc.nat(GAP)).map(([first, last]) => [first, ...gaps.slice(1, -1), last]))
      .map((gaps) => build(slots, gaps)),
  );

const nonOverlapping = scenario(fc.oneof(oneSided('ours'), oneSided('theirs'), oneSided('same')));
const withConflicts = scenario(fc.oneof(oneSided('ours'), oneSided('theirs'), oneSided('same'), conflicting)).filter(
  (s) => s.conflicts.length > 0,
);

test('edits on disjoint, non-adjacent ranges merge clean into a text holding both sides', () => {
  fc.assert(
    fc.property(nonOverlapping, (s) => {
      const r = mergeText(s.base, s.ours, s.theirs);
      assert.deepEqual(r, { clean: true, text: s.keepingOurs });
    }),
    { numRuns: 500, ...replay },
  );
});

test('overlapping different edits are conflicts, and no change of either side is lost', () => {
  fc.assert(
    fc.property(withConflicts, (s) => {
      const r = mergeText(s.base, s.ours, s.theirs);
      assert.equal(r.clean, false);
      if (r.clean) return;
      assert.equal(r.conflicts.length, s.conflicts.length);
      r.conflicts.forEach((c, i) => {
        assert.ok(c.ours.includes(s.conflicts[i]!.oursText));
        assert.ok(c.theirs.includes(s.conflicts[i]!.theirsText));
      });
      // Each side's version of the conflicts, with every clean change of both sides around them.
      assert.equal(r.keepingOurs, s.keepingOurs);
      assert.equal(r.keepingTheirs, s.keepingTheirs);
    }),
    { numRuns: 500, ...replay },
  );
});

// Everyday texts: few letters, repeated words, line breaks and astral characters, so the diff
// meets ambiguous alignments and cut surrogate pairs.
const unit = fc.constantFrom('a', 'b', 'c', ' ', '\n', '\r\n', 'é', '😀', '😁', '\t');
const text = fc.string({ unit, maxLength: 40 });
const edits = fc.array(fc.record({ at: fc.nat(), del: fc.nat(4), ins: fc.string({ unit, maxLength: 5 }) }), { maxLength: 5 });

/** Applies edits on code point boundaries, like an editor would. */
function editText(base: string, list: { at: number; del: number; ins: string }[]): string {
  let points = Array.from(base);
  for (const e of list) {
    const at = points.length === 0 ? 0 : e.at % (points.length + 1);
    points = [...points.slice(0, at), ...Array.from(e.ins), ...points.slice(at + e.del)];
  }
  return points.join('');
}

const triple = fc.tuple(text, edits, edits).map(([base, a, b]) => ({ base, x: editText(base, a), y: editText(base, b) }));

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function mirrored(r: TextMergeResult): TextMergeResult {
  if (r.clean) return r;
  return {
    clean: false,
    conflicts: r.conflicts.map((c) => ({ ...c, ours: c.theirs, theirs: c.ours })),
    keepingOurs: r.keepingTheirs,
    keepingTheirs: r.keepingOurs,
  };
}

test('merging is symmetric: swapping the sides gives the same verdict and the same text', () => {
  fc.assert(
    fc.property(triple, ({ base, x, y }) => {
      assert.deepEqual(mergeText(base, y, x), mirrored(mergeText(base, x, y)));
    }),
    { numRuns: 1000, ...replay },
  );
});

test('a side that changed nothing yields the other; equal sides yield themselves', () => {
  fc.assert(
    fc.property(triple, ({ base, x }) => {
      assert.deepEqual(mergeText(base, base, x), { clean: true, text: x });
      assert.deepEqual(mergeText(base, x, base), { clean: true, text: x });
      assert.deepEqual(mergeText(base, x, x), { clean: true, text: x });
    }),
    { numRuns: 300, ...replay },
  );
});

test('merges of well-formed texts are well-formed and start from one side or the other', () => {
  fc.assert(
    fc.property(triple, ({ base, x, y }) => {
      const r = mergeText(base, x, y);
      const outputs = r.clean ? [r.text] : [r.keepingOurs, r.keepingTheirs];
      for (const o of outputs) assert.ok(!loneSurrogate.test(o), JSON.stringify(o));
      if (!r.clean) {
        // Every conflict is in the base's coordinates, in order, and really differs.
        let end = -1;
        for (const c of r.conflicts) {
          assert.ok(c.baseStart > end && c.baseEnd >= c.baseStart);
          assert.equal(c.base, base.slice(c.baseStart, c.baseEnd));
          assert.notEqual(c.ours, c.theirs);
          end = c.baseEnd;
        }
      }
    }),
    { numRuns: 1000, ...replay },
  );
});

test('edits that differ as hunks but leave the same text are one change, not a conflict', () => {
  // Found by the property below (seed -1209774730): both sides deleted one of two tabs, and the
  // diffs picked different tabs. The merge was a conflict whose two sides were the same '\t'.
  const base = 'aaa\r\n\t\taaa';
  const ours = 'aaa\r\n\taaa';
  const theirs = 'aa\n\taa😀😁a';
  const r = mergeText(base, ours, theirs);
  assert.deepEqual(r, mergeText(base, theirs, ours), 'symmetric');
  if (!r.clean) for (const c of r.conflicts) assert.notEqual(c.ours, c.theirs, JSON.stringify(c));
  assert.deepEqual(mergeText('x\t\ty', 'x\ty', 'x\ty'), { clean: true, text: 'x\ty' });
});

test('changes on different lines merge; a change to the same word conflicts', () => {
  const base = 'alpha\nbeta\ngamma\ndelta\n';
  assert.deepEqual(mergeText(base, 'alpha\nBETA\ngamma\ndelta\n', 'alpha\nbeta\ngamma\nDELTA\n'), {
    clean: true,
    text: 'alpha\nBETA\ngamma\nDELTA\n',
  });
  const r = mergeText(base, 'alpha\nbeta 1\ngamma\ndelta\n', 'alpha\nbeta 2\ngamma\ndelta\n');
  assert.equal(r.clean, false);
  if (!r.clean) {
    assert.equal(r.conflicts.length, 1);
    assert.equal(r.keepingOurs, 'alpha\nbeta 1\ngamma\ndelta\n');
    assert.equal(r.keepingTheirs, 'alpha\nbeta 2\ngamma\ndelta\n');
  }
});

test('both sides appending different lines at the end is a conflict, not an arbitrary order', () => {
  const r = mergeText('a\n', 'a\nours\n', 'a\ntheirs\n');
  assert.equal(r.clean, false);
});

test('a change to one half of a surrogate pair never cuts the character', () => {
  // 😀 and 😁 share their high surrogate; the merge must still replace whole characters.
  const r = mergeText('x😀y😀z', 'x😁y😀z', 'x😀y😀Z');
  assert.deepEqual(r, { clean: true, text: 'x😁y😀Z' });
  const c = mergeText('😀', '😁', '😂');
  assert.equal(c.clean, false);
  if (!c.clean) assert.deepEqual(c.conflicts, [{ baseStart: 0, baseEnd: 2, base: '😀', ours: '😁', theirs: '😂' }]);
});

test('isMergeableText: UTF-8 text under the size limit, nothing binary', () => {
  assert.equal(isMergeableText(utf8('hello\nwörld 😀')), true);
  assert.equal(isMergeableText(new Uint8Array(0)), true);
  assert.equal(isMergeableText(utf8('nul\0inside')), false);
  assert.equal(isMergeableText(new Uint8Array([0xc3, 0x28])), false, 'invalid UTF-8');
  assert.equal(isMergeableText(new Uint8Array([0xed, 0xa0, 0x80])), false, 'an encoded surrogate');
  assert.equal(isMergeableText(utf8('x'.repeat(11)), 10), false);
  assert.equal(isMergeableText(utf8('x'.repeat(10)), 10), true);
});

test('a rewrite of every line (a change of line breaks) ends in bounded work, as a conflict that keeps both', () => {
  // Without a bound on the diff's steps this takes minutes; with one, the rewrite is one hunk.
  const base = Array.from({ length: 6000 }, (_, i) => `line ${i} of some text ${(i * 7919) % 1000}`).join('\n') + '\n';
  const ours = base.replace(/\n/g, '\r\n');
  const theirs = base.replace('line 3000 ', 'LINE 3000 ');
  const r = mergeText(base, ours, theirs);
  assert.equal(r.clean, false);
  if (!r.clean) {
    assert.equal(r.keepingOurs, ours);
    // Their side of the conflict, among our new line breaks wherever the two did not meet.
    assert.ok(r.keepingTheirs.includes('LINE 3000 of'));
    assert.ok(r.conflicts.some((c) => c.theirs.includes('LINE 3000 of')));
  }
  assert.deepEqual(mergeText(base, theirs, ours), mirrored(r), 'bounded, and still symmetric');
});

test('long texts are diffed by line, then by character: far-apart edits of a large file merge, and the hunks rebuild the text', () => {
  const lines = Array.from({ length: 6000 }, (_, i) => `line ${i}: ${'x'.repeat(i % 40)}\n`);
  const base = lines.join('');
  const edit = (at: number, text: string): string => [...lines.slice(0, at), text, ...lines.slice(at + 1)].join('');
  const ours = edit(100, 'line 100 changed by us\n');
  const theirs = edit(5000, 'line 5000 changed by them, with a tail of 20 KiB: ' + 'y'.repeat(20 * 1024) + '\n');
  const merged = mergeText(base, ours, theirs);
  assert.ok(merged.clean);
  assert.equal(
    merged.text,
    [
      ...lines.slice(0, 100),
      'line 100 changed by us\n',
      ...lines.slice(101, 5000),
      theirs.split('\n')[5000] + '\n',
      ...lines.slice(5001),
    ].join(''),
  );
  for (const after of [ours, theirs, base.replace(/line 3/g, 'LINE 3'), base.slice(0, 70_000) + base.slice(90_000)]) {
    assert.equal(applyHunks(base, diffHunks(base, after)), after);
  }
});
