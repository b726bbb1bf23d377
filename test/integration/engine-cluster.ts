import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { EngineClient } from '../../src/node/engine/engine-client';
import { ENGINE_EVENTS, type EngineEvent, type EngineStatus } from '../../src/node/engine/engine-protocol';
import { waitFor } from './disk-cluster';
import { LOOPBACK_LISTEN, NetWorld } from './net-cluster';

/** The compiled host, forked as the extension forks the bundled one; ENGINE_HOST=dist/engine-host.js runs the tests on the bundle. */
export const HOST = process.env['ENGINE_HOST'] ?? nodePath.resolve(__dirname, '../../src/node/engine/engine-host.js');

export const SYNC_MS = 60_000;

/** One simulated extension: a forked engine host, the events it pushed, and the keys it would keep in SecretStorage. */
export class EngineUser {
  readonly events: EngineEvent[] = [];
  keys: string | undefined;
  client: EngineClient;

  constructor(
    readonly world: NetWorld,
    readonly name: string,
  ) {
    this.client = this.fork();
  }

  get home(): string {
    return nodePath.join(this.world.dir, 'engine-homes', this.name);
  }

  folder(name: string): string {
    return this.world.folder(`${this.name}-${name}`);
  }

  private fork(): EngineClient {
    const log = nodePath.join(this.world.dir, `${this.name}-host.log`);
    const client = new EngineClient({ hostScript: HOST, log: (line) => fs.appendFileSync(log, line + '\n') });
    for (const kind of ENGINE_EVENTS) {
      client.on(kind, (e) => {
        this.events.push(e);
        if (e.event === 'log') fs.appendFileSync(log, `${e.level} ${e.message}\n`);
      });
    }
    return client;
  }

  async setUp(): Promise<void> {
    await this.client.call('start', { home: this.home, listen: LOOPBACK_LISTEN });
    const { keys } = await this.client.call('createIdentity', { server: this.world.url, name: this.name });
    this.keys = keys;
  }

  /** Stops the host; `restart` forks a new one on the same home with the kept keys. */
  async stop(): Promise<void> {
    await this.client.dispose();
  }

  async restart(): Promise<void> {
    this.client = this.fork();
    await this.client.call('start', { home: this.home, listen: LOOPBACK_LISTEN, ...(this.keys ? { keys: this.keys } : {}) });
  }

  async status(): Promise<EngineStatus> {
    return this.client.call('status', {});
  }

  async until(what: string, check: (s: EngineStatus) => boolean, timeoutMs = SYNC_MS): Promise<EngineStatus> {
    let last: EngineStatus | undefined;
    await waitFor(`${this.name}: ${what}`, async () => check((last = await this.status())), timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message}; last status: ${JSON.stringify(last)}`);
    });
    return last!;
  }

  event<E extends EngineEvent['event']>(
    kind: E,
    check: (e: Extract<EngineEvent, { event: E }>) => boolean = () => true,
  ): Extract<EngineEvent, { event: E }> | undefined {
    return this.events.find(
      (e): e is Extract<EngineEvent, { event: E }> => e.event === kind && check(e as Extract<EngineEvent, { event: E }>),
    );
  }

  async untilEvent<E extends EngineEvent['event']>(
    kind: E,
    check: (e: Extract<EngineEvent, { event: E }>) => boolean = () => true,
    timeoutMs = SYNC_MS,
  ): Promise<Extract<EngineEvent, { event: E }>> {
    await waitFor(`${this.name}: a ${kind} event`, () => this.event(kind, check) !== undefined, timeoutMs);
    return this.event(kind, check)!;
  }
}

export function write(file: string, text: string): void {
  fs.mkdirSync(nodePath.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** alice and bob, each with a host of their own, contacts of each other. */
export async function twoContacts(world: NetWorld, users: EngineUser[]): Promise<{ alice: EngineUser; bob: EngineUser }> {
  if (!world.server) await world.startServer();
  const alice = new EngineUser(world, 'alice');
  const bob = new EngineUser(world, 'bob');
  // Registered before anything can fail, so the test's clean-up stops both hosts.
  users.push(alice, bob);
  await alice.setUp();
  await bob.setUp();
  const { code } = await alice.client.call('createInvite', {});
  await bob.client.call('openInvite', { code });
  await bob.client.call('acceptInvite', { code });
  await alice.until('bob as a contact', (s) => s.contacts.some((c) => c.name === 'bob'));
  return { alice, bob };
}
