import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { RendezvousClient } from '../../src/node/net/rendezvous-client';
import { generateDeviceKeys, publicDeviceOf, type DeviceKeys } from '../../src/node/crypto/device-keys';
import { endorse, makeLinkGrant } from '../../src/node/crypto/device-trust';

/**
 * What a hostile client of the rendezvous server does, over real sockets: raw upgrades, frames
 * that never end, requests that never finish. Attacks come from 127.0.0.2 (loopback too) so the
 * real user on 127.0.0.1 is a different address, as on the Internet.
 */
export const ATTACKER = '127.0.0.2';

export const MiB = 1024 * 1024;

/** The server process's resident memory now and at its peak, in bytes (Linux /proc). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Starts a measurement: resets the process's peak to its resident memory now (Linux clear_refs) and returns that. */
export function measureFrom(pid: number): number {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  return memoryOf(pid).rss;
}

/** A TCP connection from `localAddress`; resolves once connected. */
export function tcp(port: number, localAddress = ATTACKER): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A socket that is closed, by either side, once `closed` resolves; errors are part of being closed. */
export function watchClose(socket: net.Socket): { closed: Promise<void>; isClosed: () => boolean } {
  let done = false;
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => ((done = true), resolve())));
  return { closed, isClosed: () => done || socket.destroyed };
}

/** An upgrade request cut short before its blank line: the server waits for the rest. */
export function halfUpgrade(socket: net.Socket): void {
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`);
}

/** Completes a WebSocket upgrade by hand; resolves with the socket once the server answered 101. */
export async function rawWebSocket(port: number, localAddress = ATTACKER): Promise<net.Socket> {
  const socket = await tcp(port, localAddress);
  const key = crypto.randomBytes(16).toString('base64');
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  return socket;
}

/** The header of one masked binary client frame that says `length` bytes follow. */
export function binaryFrameHeader(length: number): Uint8Array {
  const header = new Uint8Array(14);
  header[0] = 0x82; // FIN, binary
  header[1] = 0x80 | 127; // masked, 64-bit length
  new DataView(header.buffer).setBigUint64(2, BigInt(length));
  crypto.getRandomValues(header.subarray(10));
  return header;
}

/**
 * Writes `bytes` of a frame's payload, a chunk at a time as the socket takes them, until done or
 * the server closes the socket; resolves with the bytes written.
 */
export async function writeUntilClosed(socket: net.Socket, bytes: number, isClosed: () => boolean): Promise<number> {
  const chunk = new Uint8Array(64 * 1024).fill(0x41);
  let written = 0;
  while (written < bytes && !isClosed()) {
    const more = socket.write(chunk);
    written += chunk.length;
    if (!more) await new Promise<void>((resolve) => (socket.once('drain', resolve), socket.once('close', resolve)));
  }
  return written;
}

/** A new user's device, signed in by the real client code. */
export async function realDevice(url: string, name: string, options: { limitDown?: number } = {}): Promise<RendezvousClient> {
  const client = new RendezvousClient({ url, keys: generateDeviceKeys(), join: { name }, mode: 'session', ...options });
  await client.connect();
  return client;
}

/** Two devices of one user (linked, so each may reach the other), signed in by the real client code. */
export async function linkedPair(
  url: string,
  secondOptions: { limitDown?: number } = {},
): Promise<{ first: RendezvousClient; second: RendezvousClient; secondKeys: DeviceKeys }> {
  const firstKeys = generateDeviceKeys();
  const first = new RendezvousClient({ url, keys: firstKeys, join: { name: 'pair' }, mode: 'session' });
  const firstState = await first.connect();
  const token = String((await first.request({ t: 'createLink' }))['token']);
  const secondKeys = generateDeviceKeys();
  const grant = makeLinkGrant(firstKeys, first.device.id, firstState.user.id);
  const endorsement = endorse(grant, publicDeviceOf(secondKeys));
  const second = new RendezvousClient({ url, keys: secondKeys, join: { link: token }, endorsement, mode: 'session', ...secondOptions });
  await second.connect();
  return { first, second, secondKeys };
}

/** Lines of the server's JSON log with this event. */
export function logEvents(log: string, event: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e['event'] === event);
}
