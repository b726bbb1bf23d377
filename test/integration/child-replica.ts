import { fork, type ChildProcess } from 'node:child_process';
import * as nodePath from 'node:path';
import type { DiskReplica } from '../../src/node/disk/disk-replica';
import type { MessagePort } from '../../src/sync/ports/ports';
import { decodeMessage, encodeMessage } from '../../src/sync/protocol/codec';
import { waitFor } from './disk-cluster';

const CHILD = nodePath.join(__dirname, 'fixtures', 'replica-child.js');

export interface ChildMessage {
  readonly frame?: Uint8Array;
  readonly ready?: boolean;
  readonly ack?: string;
  readonly errors?: Array<[string, string, string]>;
  readonly state?: string;
  readonly needed?: string[];
}

/**
 * An in-process replica talking to one replica in a child process (see fixtures/replica-child),
 * so tests can kill the child or run it as another user. The link goes down with the child.
 */
export class ChildLink {
  private child: ChildProcess | undefined;

  constructor(
    private readonly childUser: string,
    private readonly parentUser: string,
  ) {}

  /** The port the in-process replica sends through. */
  readonly port: MessagePort = {
    send: (_to, message) => {
      if (this.child?.connected) this.child.send({ frame: encodeMessage(message) });
    },
  };

  get process(): ChildProcess | undefined {
    return this.child;
  }

  /** Starts the child replica on `root` and links it with `parent`; resolves once it is running. */
  async start(
    parent: DiskReplica,
    root: string,
    stateDir: string,
    onMessage: (m: ChildMessage) => void = () => undefined,
    ids?: { uid: number; gid: number },
  ): Promise<ChildProcess> {
    const child = fork(CHILD, ['--replica-child', root, stateDir, this.childUser, this.parentUser], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      ...(ids ?? {}),
    });
    let ready = false;
    child.on('message', (m: ChildMessage) => {
      if (m.ready) ready = true;
      if (m.frame && this.child === child) void parent.replica.receive(this.childUser, decodeMessage(new Uint8Array(m.frame)));
      onMessage(m);
    });
    this.child = child;
    await waitFor(`${this.childUser} to start`, () => ready || child.exitCode !== null, 30_000);
    if (child.exitCode !== null) throw new Error(`${this.childUser}'s process exited with code ${child.exitCode}`);
    await parent.replica.peerUp(this.childUser);
    return child;
  }

  /** SIGKILL, at whatever moment: nothing in the child gets to clean up. */
  async kill(parent: DiskReplica): Promise<void> {
    const child = this.child;
    if (!child) return;
    await parent.replica.peerDown(this.childUser);
    this.child = undefined;
    child.kill('SIGKILL');
    await waitFor(`${this.childUser} to die`, () => child.exitCode !== null || child.signalCode !== null, 10_000);
  }
}
