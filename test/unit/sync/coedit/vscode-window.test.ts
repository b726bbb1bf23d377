import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoeditSession } from '../../../../src/sync/coedit/coedit-session';
import { TextBinding, type DocumentEdit, type EditorDocument } from '../../../../src/sync/coedit/text-binding';
import { Prng } from '../../../sim/prng';
import { settle } from './memory-editor';

// Three devices co-edit through TextBinding, each against a simulated VS Code window built on what
// VS Code guarantees and no more: the user types in the renderer, whose model runs ahead of the
// extension host's copy; change reports and answers cross an RPC channel after random delays, the
// answer to a batch sometimes before its report; a batch (TextEditor.edit) is applied only at the
// version it was made against, and its report may come reordered or with touching changes merged
// into one, as VS Code's text model reports them. Users type whole lines a key at a time: alice at
// the end of the file, bob at the start of the shared line and carol at its end (the same line),
// at random speeds relative to the network. At the end every editor shows the shared text, and
// every line each user typed is there once, whole and in place. A failure prints the seed:
//   SEED=<seed> KEYS=<keys> node --test out/test/unit/sync/coedit/vscode-window.test.js

const KEYS = Number(process.env.KEYS ?? 400);
const SEED_TEXT = '# Notes\n\nshared line\n';

type ToHost =
  | { readonly kind: 'report'; readonly edits: readonly DocumentEdit[]; readonly version: number }
  | { readonly kind: 'answer'; readonly answer: (ok: boolean) => void; readonly ok: boolean };

function splice(text: string, e: DocumentEdit): string {
  return text.slice(0, e.offset) + e.insertText + text.slice(e.offset + e.deleteCount);
}

/** One window: the renderer's model and the user's cursor in it, the extension host's copy, and the channel between them. */
class Window implements EditorDocument {
  model: string;
  modelVersion = 1;
  cursor: number;
  host: string;
  version = 1;
  readonly toHost: ToHost[] = [];
  readonly toRenderer: { edits: readonly DocumentEdit[]; version: number; answer: (ok: boolean) => void }[] = [];
  listener: ((edits: readonly DocumentEdit[], version: number) => void) | undefined;

  constructor(
    text: string,
    cursor: number,
    private readonly rng: Prng,
  ) {
    this.model = text;
    this.host = text;
    this.cursor = cursor;
  }

  getText(): string {
    return this.host;
  }

  apply(edits: readonly DocumentEdit[], version: number): Promise<boolean> {
    return new Promise((answer) => this.toRenderer.push({ edits, version, answer }));
  }

  /** The user types one key at the cursor. */
  type(key: string): void {
    const e = { offset: this.cursor, deleteCount: 0, insertText: key };
    this.model = splice(this.model, e);
    this.modelVersion++;
    this.cursor += key.length;
    this.toHost.push({ kind: 'report', edits: [e], version: this.modelVersion });
  }

  /** The renderer takes the oldest batch: refused unless the model is still at its version. */
  renderStep(): boolean {
    const request = this.toRenderer.shift();
    if (!request) return false;
    if (request.version !== this.modelVersion) {
      this.toHost.push({ kind: 'answer', answer: request.answer, ok: false });
      return true;
    }
    // Descending offsets, each relative to the model before the batch.
    for (const e of request.edits) {
      this.model = splice(this.model, e);
      if (e.offset < this.cursor) this.cursor = Math.max(e.offset + e.insertText.length, this.cursor + e.insertText.length - e.deleteCount);
    }
    this.modelVersion++;
    const report = { kind: 'report' as const, edits: this.reshaped(request.edits), version: this.modelVersion };
    const answer = { kind: 'answer' as const, answer: request.answer, ok: true };
    if (this.rng.chance(0.2)) this.toHost.push(answer, report);
    else this.toHost.push(report, answer);
    return true;
  }

  /** The extension host takes the oldest message. */
  hostStep(): boolean {
    const m = this.toHost.shift();
    if (!m) return false;
    if (m.kind === 'answer') {
      m.answer(m.ok);
      return true;
    }
    for (const e of [...m.edits].sort((a, b) => b.offset - a.offset)) this.host = splice(this.host, e);
    this.version = m.version;
    this.listener?.(m.edits, m.version);
    return true;
  }

  /** A batch as the window may report it: in either order, touching changes merged into one. */
  private reshaped(edits: readonly DocumentEdit[]): DocumentEdit[] {
    const ascending = [...edits].sort((a, b) => a.offset - b.offset);
    const merged: DocumentEdit[] = [];
    for (const e of ascending) {
      const last = merged[merged.length - 1];
      if (last && last.offset + last.deleteCount === e.offset && this.rng.chance(0.5)) {
        merged[merged.length - 1] = {
          offset: last.offset,
          deleteCount: last.deleteCount + e.deleteCount,
          insertText: last.insertText + e.insertText,
        };
      } else merged.push(e);
    }
    return this.rng.chance(0.5) ? merged : merged.reverse();
  }
}

interface Typist {
  readonly name: string;
  readonly window: Window;
  readonly session: CoeditSession;
  readonly binding: TextBinding;
  /** What is left to type, and the whole of it. */
  keys: string[];
  readonly lines: string[];
}

async function run(seed: number, keys: number): Promise<void> {
  const rng = new Prng(seed);
  const frames: { to: number; from: number; frame: Uint8Array }[] = [];
  const sharedLine = SEED_TEXT.indexOf('shared line');
  const plans = [
    // alice: whole lines at the end of the file; bob: words before the shared line; carol: after it.
    { name: 'alice', cursor: SEED_TEXT.length, line: (k: number) => `alice line ${k}\n` },
    { name: 'bob', cursor: sharedLine, line: (k: number) => `bob${k} ` },
    { name: 'carol', cursor: sharedLine + 'shared line'.length, line: (k: number) => ` carol${k}` },
  ];
  const typists: Typist[] = plans.map((plan, i) => {
    const window = new Window(SEED_TEXT, plan.cursor, rng);
    const session = new CoeditSession({
      seed: SEED_TEXT,
      user: { id: `u${i}`, name: plan.name },
      clientId: i + 1,
      broadcast: (frame) => {
        for (let to = 0; to < plans.length; to++) if (to !== i) frames.push({ to, from: i, frame });
      },
    });
    const binding = new TextBinding(session.text, window, '\n');
    window.listener = (edits, version) => binding.documentChanged(edits, version);
    const lines: string[] = [];
    let total = 0;
    for (let k = 0; total < keys; k++) {
      const line = plan.line(k);
      lines.push(line);
      total += line.length;
    }
    return { name: plan.name, window, session, binding, keys: [...lines.join('')], lines };
  });
  const deliver = (): boolean => {
    if (frames.length === 0) return false;
    const m = frames.splice(rng.int(Math.min(frames.length, 3)), 1)[0]!;
    for (const reply of typists[m.to]!.session.receive(m.frame, `d${m.from}`)) frames.push({ to: m.from, from: m.to, frame: reply });
    return true;
  };
  for (const [i, t] of typists.entries())
    for (const f of t.session.join()) for (let to = 0; to < 3; to++) if (to !== i) frames.push({ to, from: i, frame: f });
  try {
    for (let step = 0; typists.some((t) => t.keys.length > 0); step++) {
      const t = rng.pick(typists);
      const roll = rng.int(10);
      if (roll < 3) {
        const key = t.keys.shift();
        if (key !== undefined) t.window.type(key);
      } else if (roll < 5) t.window.renderStep();
      else if (roll < 8) t.window.hostStep();
      else deliver();
      if (step % 16 === 0) await settle();
    }
    // Quiet: nobody types; everything in flight arrives.
    for (let round = 0, still = 0; round < 20_000 && still < 5; round++) {
      let moved = false;
      for (const t of typists) moved = t.window.renderStep() || t.window.hostStep() || moved;
      while (deliver()) moved = true;
      await settle();
      still =
        !moved && typists.every((t) => t.window.toHost.length === 0 && t.window.toRenderer.length === 0 && t.binding.settled)
          ? still + 1
          : 0;
    }
    const shared = typists[0]!.session.text.toString();
    for (const t of typists) {
      assert.equal(t.session.text.toString(), shared, `${t.name}'s shared text`);
      assert.equal(t.window.model, shared, `${t.name}'s editor shows the shared text`);
      assert.equal(t.window.host, shared);
      assert.equal(t.binding.repairs, 0, `${t.name}'s binding never repaired`);
    }
    const at = (s: string): number => shared.indexOf(s);
    assert.ok(shared.startsWith('# Notes\n\n'), `the heading is untouched: ${JSON.stringify(shared)}`);
    const bob = typists[1]!.lines.join('');
    const carol = typists[2]!.lines.join('');
    assert.ok(
      shared.includes(`${bob}shared line${carol}\n`),
      `bob's and carol's words whole around the shared line: ${JSON.stringify(shared)}`,
    );
    for (const line of typists[0]!.lines) {
      assert.equal(shared.split(line).length - 1, 1, `alice's ${JSON.stringify(line)} once: ${JSON.stringify(shared)}`);
      assert.ok(at(line) > at('shared line'), `alice's line after the shared line`);
    }
  } catch (err) {
    const replay = `replay: SEED=${seed} KEYS=${keys} node --test out/test/unit/sync/coedit/vscode-window.test.js`;
    console.error(replay);
    if (err instanceof Error) err.message += `\n${replay}`;
    throw err;
  } finally {
    for (const t of typists) {
      t.binding.dispose();
      t.session.destroy();
    }
  }
}

const seeds = process.env.SEED !== undefined ? [Number(process.env.SEED)] : [1, 2, 3, 4, 5, 6];
for (const seed of seeds) {
  test(`three users type lines a key at a time into simulated VS Code windows: seed ${seed}`, { timeout: 120_000 }, () => run(seed, KEYS));
}
