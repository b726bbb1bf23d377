import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { EngineCallError, EngineClient } from '../../src/node/engine/engine-client';
import { waitFor } from './disk-cluster';

/** Small stand-in hosts, so the client's own behaviour is tested without an engine behind it. */
const HOSTS = {
  // Answers every request: `fail` with an error, `start` and `createIdentity` as the real host would; says which start it got.
  echo: `
    process.on('message', (m) => {
      if (m.method === 'fail') return process.send({ kind: 'response', id: m.id, ok: false, code: 'usage', message: 'you asked for it' });
      if (m.method === 'start') process.send({ kind: 'event', event: 'log', level: 'info', message: 'start ' + JSON.stringify(m.params) });
      const result = m.method === 'createIdentity' ? { identity: {}, keys: 'the-keys' } : {};
      process.send({ kind: 'response', id: m.id, ok: true, result }, () => { if (m.method === 'stop') process.exit(0); });
    });`,
  silent: `process.on('message', () => undefined); setInterval(() => undefined, 1e6);`,
  crash: `process.exit(3);`,
};

function hostScript(dir: string, name: keyof typeof HOSTS): string {
  const file = nodePath.join(dir, `${name}-host.js`);
  fs.writeFileSync(file, HOSTS[name]);
  return file;
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('engine client: typed calls and errors, events, a call that times out, replay of start into a restarted host, dispose', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-client-'));
  const clients: EngineClient[] = [];
  try {
    const echo = new EngineClient({ hostScript: hostScript(dir, 'echo'), firstBackoffMs: 50 });
    clients.push(echo);
    const logs: string[] = [];
    echo.on('log', (e) => logs.push(e.message));
    await echo.call('start', { home: '/h' });
    const { keys } = await echo.call('createIdentity', { server: 'ws://x', name: 'a' });
    assert.equal(keys, 'the-keys');
    await assert.rejects(
      echo.call('fail' as 'status', {}),
      (err: EngineCallError) => err instanceof EngineCallError && err.code === 'usage' && err.message === 'you asked for it',
    );
    assert.deepEqual(logs, ['start {"home":"/h"}']);

    // Killed: pending calls fail, a new host is started and given the last start, with the keys.
    const first = echo.pid!;
    const restarted = new Promise<void>((resolve) => echo.on('restarted', () => resolve()));
    process.kill(first, 'SIGKILL');
    await restarted;
    assert.notEqual(echo.pid, first);
    assert.deepEqual(logs, ['start {"home":"/h"}', 'start {"home":"/h","keys":"the-keys"}']);
    await echo.call('status', {});
    const last = echo.pid;
    await echo.dispose();
    await waitFor('the host to be gone', () => !alive(last), 10_000);

    const silent = new EngineClient({ hostScript: hostScript(dir, 'silent'), stopTimeoutMs: 500 });
    clients.push(silent);
    await assert.rejects(
      silent.call('status', {}, 300),
      (err: EngineCallError) => err.code === 'internal' && /did not answer status in time/.test(err.message),
    );
    const silentPid = silent.pid;
    await silent.dispose();
    await waitFor('the silent host to be killed', () => !alive(silentPid), 10_000);
  } finally {
    for (const c of clients) await c.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('engine client: a host that keeps dying is restarted with growing, capped delays until disposed', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-client-'));
  const client = new EngineClient({ hostScript: hostScript(dir, 'crash'), firstBackoffMs: 20, maxBackoffMs: 80 });
  try {
    const exits: boolean[] = [];
    client.on('exited', (e) => exits.push(e.restarting));
    await waitFor('several restarts', () => exits.length >= 4, 30_000);
    assert.ok(exits.every((r) => r));
    await assert.rejects(client.call('status', {}, 5000), (err: EngineCallError) => err.code === 'internal');
  } finally {
    await client.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
