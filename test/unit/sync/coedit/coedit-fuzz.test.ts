// Three devices type into the same file at once through the real binding and session, over a
// simulated channel that delays, reorders and duplicates frames and cuts one device off for a
// while; nothing reads the wall clock. At the end every editor shows the same text, the shared
// text. A failure prints its seed; replay it with
//   SEED=<seed> EDITS=<edits> node --test out/test/unit/sync/coedit/coedit-fuzz.test.js
// (EDITS is the number of edits per device, 2,000 unless set.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoeditSession } from '../../../../src/sync/coedit/coedit-session';
import { withEol, type Eol } from '../../../../src/sync/coedit/eol';
import { TextBinding } from '../../../../src/sync/coedit/text-binding';
import { Prng } from '../../../sim/prng';
import { cursorOffsets, MemoryEditor, settle } from './memory-editor';

const EDITS = Number(process.env.EDITS ?? 2000);

const PIECES = ['a', 'b', 'xyz', ' ', '\t', 'é', '😀', '👍🏽', '\n', '\r\n', '\r', 'two\nlines\n', 'crlf\r\nline\r\n', 'word '];

interface Peer {
  readonly name: string;
  readonly editor: MemoryEditor;
  readonly session: CoeditSession;
  readonly binding: TextBinding;
  edits: number;
}

interface InFlight {
  readonly from: string;
  readonly to: string;
  readonly frame: Uint8Array;
  readonly at: number;
}

function randomText(rng: Prng): string {
  let s = '';
  for (let n = rng.range(1, 3); n > 0; n--) s += rng.pick(PIECES);
  return s;
}

/** One user action on an editor: insert, delete or replace, on offsets an editor can produce. */
function randomEdit(rng: Prng, editor: MemoryEditor): void {
  const offsets = cursorOffsets(editor.text);
  const a = rng.pick(offsets);
  const b = rng.pick(offsets);
  const [from, to] = a <= b ? [a, b] : [b, a];
  // Keep the text small enough that the run stays fast, and deletions short enough to be interesting.
  const end = Math.min(to, offsets[Math.min(offsets.indexOf(from) + rng.range(1, 12), offsets.length - 1)]!);
  const roll = rng.int(10);
  if (roll < 5 || editor.text.length < 20) editor.edit(from, 0, randomText(rng));
  else if (roll < 8 || editor.text.length > 600) editor.edit(from, end - from, '');
  else editor.edit(from, end - from, randomText(rng));
}

async function run(seed: number, eol: Eol, edits: number): Promise<void> {
  const rng = new Prng(seed);
  const seedText = withEol('first line\nsecond 😀 line\n\nlast', eol);
  const peers = new Map<string, Peer>();
  const queue: InFlight[] = [];
  let now = 0;
  let cutOff: string | undefined;
  let cutUntil = 0;

  const send = (from: string, to: string, frame: Uint8Array): void => {
    if (cutOff === from || cutOff === to) return; // the link is down: lost
    queue.push({ from, to, frame, at: now + rng.int(40) });
    if (rng.chance(0.05)) queue.push({ from, to, frame, at: now + rng.int(80) });
  };
  const broadcast = (from: string, frame: Uint8Array): void => {
    for (const to of peers.keys()) if (to !== from) send(from, to, frame);
  };

  ['p1', 'p2', 'p3'].forEach((name, i) => {
    const editor = new MemoryEditor(seedText, eol);
    const session = new CoeditSession({
      seed: seedText,
      user: { id: `user-${name}`, name },
      clientId: i + 1,
      broadcast: (f) => broadcast(name, f),
    });
    assert.equal(session.eol, eol);
    const binding = new TextBinding(session.text, editor, session.eol);
    editor.listener = (changes, version) => binding.documentChanged(changes, version);
    peers.set(name, { name, editor, session, binding, edits: 0 });
  });

  const deliverOne = (): boolean => {
    const ready: number[] = [];
    queue.forEach((m, i) => {
      if (m.at <= now) ready.push(i);
    });
    if (ready.length === 0) return false;
    const [m] = queue.splice(rng.pick(ready), 1);
    if (cutOff === m!.from || cutOff === m!.to) return true;
    for (const reply of peers.get(m!.to)!.session.receive(m!.frame, m!.from)) send(m!.to, m!.from, reply);
    return true;
  };

  try {
    for (const p of peers.values()) for (const f of p.session.join()) broadcast(p.name, f);
    const all = [...peers.values()];
    while (all.some((p) => p.edits < edits)) {
      now++;
      if (cutOff !== undefined && now >= cutUntil) {
        // The link is back: the device that was away rejoins, and both sides catch up.
        const back = peers.get(cutOff)!;
        cutOff = undefined;
        for (const f of back.session.join()) broadcast(back.name, f);
      } else if (cutOff === undefined && rng.chance(0.002)) {
        cutOff = rng.pick(all).name;
        cutUntil = now + rng.range(50, 400);
      }
      const typing = all.filter((p) => p.edits < edits);
      for (let k = rng.int(3); k > 0 && typing.length > 0; k--) {
        const p = rng.pick(typing);
        randomEdit(rng, p.editor);
        p.edits++;
        if (rng.chance(0.05)) {
          const offsets = cursorOffsets(p.editor.text);
          const anchor = p.binding.toTextOffset(rng.pick(offsets));
          p.session.setLocalSelection({ anchor, head: anchor });
        }
      }
      for (let k = rng.int(6); k > 0; k--) deliverOne();
      // Answers of the editors come between keystrokes, or only after several.
      if (rng.chance(0.3)) await settle();
    }
    if (cutOff !== undefined) {
      const back = peers.get(cutOff)!;
      cutOff = undefined;
      for (const f of back.session.join()) broadcast(back.name, f);
    }
    for (let round = 0; round < 1000; round++) {
      for (;;) {
        if (!deliverOne()) {
          if (queue.length === 0) break;
          now = Math.min(...queue.map((m) => m.at));
        }
      }
      await settle();
      if (queue.length === 0 && all.every((p) => p.binding.settled)) break;
    }

    const expected = withEol(all[0]!.session.text.toString(), eol);
    for (const p of all) {
      assert.equal(p.session.text.toString(), all[0]!.session.text.toString(), `${p.name}'s shared text`);
      assert.equal(p.editor.text, expected, `${p.name}'s editor`);
      assert.equal(p.binding.documentText(), expected);
      assert.equal(p.binding.repairs, 0, `${p.name}'s binding never had to repair its document`);
      for (const c of p.session.remoteCursors()) {
        if (!c.selection) continue;
        assert.ok(c.selection.head >= 0 && c.selection.head <= p.session.text.length, 'a remote cursor inside the text');
      }
    }
  } catch (err) {
    const replay = `replay: SEED=${seed} EDITS=${edits} node --test out/test/unit/sync/coedit/coedit-fuzz.test.js`;
    console.error(replay);
    if (err instanceof Error) err.message += `\n${replay}`;
    throw err;
  } finally {
    for (const p of peers.values()) p.session.destroy();
  }
}

// By default: the full 2,000 edits per device on CRLF documents (offsets differ between document
// and shared text, the harder case), and a quarter as many on LF, to keep `npm run test:unit` short.
const runs: { seed: number; edits: number }[] =
  process.env.SEED !== undefined
    ? [{ seed: Number(process.env.SEED), edits: EDITS }]
    : [
        { seed: 1, edits: EDITS },
        { seed: 2, edits: Math.ceil(EDITS / 4) },
      ];

for (const { seed, edits } of runs) {
  // Odd seeds use CRLF documents.
  const eol: Eol = seed % 2 === 1 ? '\r\n' : '\n';
  test(`three devices, ${edits} edits each, seed ${seed} (${eol === '\n' ? 'LF' : 'CRLF'}): every editor ends equal to the shared text`, () =>
    run(seed, eol, edits));
}
