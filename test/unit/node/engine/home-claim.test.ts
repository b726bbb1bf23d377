import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { DeviceHome } from '../../../../src/node/agent/device-home';
import { connectDaemon } from '../../../../src/node/engine/daemon-connection';
import { claimHome, controlSocketPath, HomeBusyError, readHolder } from '../../../../src/node/engine/home-claim';
import { toEngineError } from '../../../../src/node/engine/to-engine-error';

function tempHome(): DeviceHome {
  return new DeviceHome(fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-claim-')));
}

test('a second claim of a home is refused with the holder pid, as one line; released, the home can be claimed again', async () => {
  const home = tempHome();
  const first = await claimHome(home, 'daemon');
  try {
    assert.equal(first.socketPath, nodePath.join(home.dir, 'daemon.sock'));
    assert.equal(fs.statSync(first.socketPath).mode & 0o777, 0o600);
    assert.deepEqual(readHolder(home), { pid: process.pid, kind: 'daemon', socket: first.socketPath });
    for (const kind of ['daemon', 'command'] as const) {
      await assert.rejects(claimHome(home, kind), (err: unknown) => {
        assert.ok(err instanceof HomeBusyError);
        assert.equal(err.pid, process.pid);
        assert.equal(err.kind, 'daemon');
        assert.equal(err.message, `${home.dir} is already running as process ${process.pid}`);
        assert.deepEqual(toEngineError(err), { code: 'busy', message: err.message });
        return true;
      });
    }
  } finally {
    await first.release();
  }
  assert.equal(readHolder(home), undefined);
  assert.equal(fs.existsSync(first.socketPath), false);
  const again = await claimHome(home, 'daemon');
  await again.release();
  fs.rmSync(home.dir, { recursive: true, force: true });
});

test('the socket of a holder killed with SIGKILL is stale: the next claim takes the home over', async () => {
  const home = tempHome();
  const claimModule = require.resolve('../../../../src/node/engine/home-claim');
  const homeModule = require.resolve('../../../../src/node/agent/device-home');
  const script = `
    const { claimHome } = require(${JSON.stringify(claimModule)});
    const { DeviceHome } = require(${JSON.stringify(homeModule)});
    claimHome(new DeviceHome(${JSON.stringify(home.dir)}), 'daemon').then(() => console.log('claimed'));
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the child did not claim the home in 10 s')), 10_000);
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('claimed')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await assert.rejects(claimHome(home, 'daemon'), (err: unknown) => err instanceof HomeBusyError && err.pid === child.pid);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  assert.ok(fs.existsSync(nodePath.join(home.dir, 'daemon.sock')), 'the killed holder left its socket');
  assert.equal(await connectDaemon(home), undefined, 'nobody answers on it');
  const claim = await claimHome(home, 'daemon');
  assert.equal(readHolder(home)?.pid, process.pid);
  await claim.release();
  fs.rmSync(home.dir, { recursive: true, force: true });
});

test('a home whose path is too long for a socket listens in a private folder of this user', async (t) => {
  if (process.platform === 'win32') return t.skip('named pipes have no path limit');
  const base = tempHome();
  const home = new DeviceHome(nodePath.join(base.dir, 'a'.repeat(60), 'b'.repeat(60)));
  const claim = await claimHome(home, 'daemon');
  try {
    assert.equal(claim.socketPath, controlSocketPath(home.dir));
    assert.ok(claim.socketPath.startsWith(os.tmpdir()), claim.socketPath);
    assert.ok(Buffer.byteLength(claim.socketPath) <= 100);
    assert.equal(fs.statSync(nodePath.dirname(claim.socketPath)).mode & 0o777, 0o700);
    assert.equal(fs.statSync(claim.socketPath).mode & 0o777, 0o600);
    await assert.rejects(claimHome(home, 'daemon'), HomeBusyError);
    const connection = await connectDaemon(home);
    assert.ok(connection, 'the daemon is reached through the fallback socket');
    assert.equal(connection.pid, process.pid);
    connection.close();
  } finally {
    await claim.release();
  }
  assert.equal(fs.existsSync(claim.socketPath), false);
  fs.rmSync(base.dir, { recursive: true, force: true });
});

test('a daemon waits for a one-shot command that holds the home, and is refused if it outlasts the wait; a command holder is no daemon to connect to', async () => {
  const home = tempHome();
  const command = await claimHome(home, 'command');
  assert.equal(await connectDaemon(home), undefined);
  await assert.rejects(claimHome(home, 'daemon', { waitMs: 300 }), (err: unknown) => {
    assert.ok(err instanceof HomeBusyError);
    assert.equal(err.kind, 'command');
    assert.match(err.message, new RegExp(`is busy with a shared-folders command \\(process ${process.pid}\\)`));
    return true;
  });
  const began = Date.now();
  const releasing = new Promise((resolve) => setTimeout(resolve, 500)).then(() => command.release());
  const daemon = await claimHome(home, 'daemon', { waitMs: 10_000 });
  await releasing;
  assert.ok(Date.now() - began >= 450, 'it waited for the command');
  assert.equal(readHolder(home)?.kind, 'daemon');
  await daemon.release();
  fs.rmSync(home.dir, { recursive: true, force: true });
});
