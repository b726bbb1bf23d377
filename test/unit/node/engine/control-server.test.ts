import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { DeviceHome } from '../../../../src/node/agent/device-home';
import { ControlServer } from '../../../../src/node/engine/control-server';
import { MAX_LINE } from '../../../../src/node/engine/line-reader';
import { connectDaemon } from '../../../../src/node/engine/daemon-connection';
import { EngineCallError } from '../../../../src/node/engine/engine-client';
import { EngineDispatcher, type EngineHandlers } from '../../../../src/node/engine/engine-dispatch';
import { EngineError } from '../../../../src/node/engine/engine-error';
import type { EngineEvent } from '../../../../src/node/engine/engine-protocol';
import { claimHome } from '../../../../src/node/engine/home-claim';

/** A daemon's socket over a few handlers: the protocol, not the engine, is under test. */
async function daemon(): Promise<{ home: DeviceHome; control: ControlServer; internal: string[]; close(): Promise<void> }> {
  const home = new DeviceHome(fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-control-')));
  const claim = await claimHome(home, 'daemon');
  const internal: string[] = [];
  const handlers = {
    createInvite: async () => ({ code: 'CODE' }),
    join: async (p: { space: string }) => {
      if (p.space === 'nope') throw new EngineError('usage', 'no space nope was shared with you');
      if (p.space === 'boom') throw new Error('boom');
      return {};
    },
    stop: async () => ({}),
  } as unknown as EngineHandlers;
  const dispatcher = new EngineDispatcher(handlers, (method) => internal.push(method));
  const control = new ControlServer(claim.server, dispatcher, Promise.resolve());
  return {
    home,
    control,
    internal,
    close: async () => {
      control.close();
      await claim.release();
      fs.rmSync(home.dir, { recursive: true, force: true });
    },
  };
}

/** A raw client; resolves when the daemon closes it. */
function raw(path: string): { socket: net.Socket; closed: Promise<void>; lines: string[] } {
  const socket = net.connect(path);
  const lines: string[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => lines.push(...d.split('\n').filter(Boolean)));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, closed, lines };
}

async function within<T>(what: string, promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

test('requests are answered, errors keep their code, an unknown or refused method is a usage error', async () => {
  const d = await daemon();
  try {
    const c = (await connectDaemon(d.home))!;
    assert.equal(c.pid, process.pid);
    assert.deepEqual(await c.call('createInvite', {}), { code: 'CODE' });
    await assert.rejects(
      c.call('join', { space: 'nope', path: '/x' }),
      (err: unknown) => err instanceof EngineCallError && err.code === 'usage' && err.message === 'no space nope was shared with you',
    );
    await assert.rejects(
      c.call('join', { space: 'boom', path: '/x' }),
      (err: unknown) => err instanceof EngineCallError && err.code === 'internal',
    );
    assert.deepEqual(d.internal, ['join'], 'an unexpected error is logged with its stack');
    await assert.rejects(
      c.call('bogus' as 'stop', {}),
      (err: unknown) => err instanceof EngineCallError && err.code === 'usage' && err.message === 'unknown method bogus',
    );
    await assert.rejects(c.call('stop', {}), (err: unknown) => err instanceof EngineCallError && err.message === 'unknown method stop');
    c.close();
  } finally {
    await d.close();
  }
});

test('events go to every client', async () => {
  const d = await daemon();
  try {
    const a = (await connectDaemon(d.home))!;
    const b = (await connectDaemon(d.home))!;
    const got: EngineEvent[][] = [[], []];
    a.onEvent((e) => got[0]!.push(e));
    b.onEvent((e) => got[1]!.push(e));
    await a.call('createInvite', {});
    await b.call('createInvite', {});
    const event: EngineEvent = { kind: 'event', event: 'log', level: 'info', message: 'hello' };
    d.control.broadcast(event);
    await within(
      'the event',
      (async () => {
        while (got[0]!.length === 0 || got[1]!.length === 0) await new Promise((r) => setTimeout(r, 10));
      })(),
    );
    assert.deepEqual(got, [[event], [event]]);
    a.close();
    b.close();
  } finally {
    await d.close();
  }
});

test('a malformed line, a message that is no request, or an oversized line closes that client only', async () => {
  const d = await daemon();
  try {
    const path = nodePath.join(d.home.dir, 'daemon.sock');
    const good = (await connectDaemon(d.home))!;

    const malformed = raw(path);
    malformed.socket.write('{not json\n');
    await within('closing the malformed client', malformed.closed);
    assert.deepEqual(malformed.lines, []);

    const notRequest = raw(path);
    notRequest.socket.write(JSON.stringify({ kind: 'response', id: 1, ok: true, result: {} }) + '\n');
    await within('closing the client that sent a response', notRequest.closed);

    const oversized = raw(path);
    const chunk = 'x'.repeat(1024 * 1024);
    for (let sent = 0; sent <= MAX_LINE && !oversized.socket.destroyed; sent += chunk.length) oversized.socket.write(chunk);
    await within('closing the oversized client', oversized.closed);

    const answered = raw(path);
    answered.socket.write('\n' + JSON.stringify({ kind: 'request', id: 7, method: 'createInvite', params: {} }) + '\n');
    await within(
      'the raw answer',
      (async () => {
        while (answered.lines.length === 0) await new Promise((r) => setTimeout(r, 10));
      })(),
    );
    assert.deepEqual(JSON.parse(answered.lines[0]!), { kind: 'response', id: 7, ok: true, result: { code: 'CODE' } });
    answered.socket.destroy();

    assert.deepEqual(await good.call('createInvite', {}), { code: 'CODE' }, 'the other client is still served');
    good.close();
  } finally {
    await d.close();
  }
});
