import * as os from 'node:os';
import type { Cluster, ClusterFigures, RelayOutcome } from './cluster';

/** One process alone: there is nobody to tell, every session is local (today's behaviour). */
export class LocalCluster implements Cluster {
  constructor(readonly nodeId: string = defaultNodeId()) {}

  async start(): Promise<void> {}
  async close(): Promise<void> {}
  announce(): void {}
  pushPresence(): void {}
  pushToUsers(): void {}
  pushRights(): void {}
  kick(): void {}
  notifyMailbox(): void {}
  relayAnywhere(): void {}

  /** Never called: without other processes there is no remote session to relay to. */
  async relay(_sender: unknown, _target: unknown, _frame: unknown, answered: (outcome: RelayOutcome) => void): Promise<void> {
    answered('gone');
  }

  async health(): Promise<'local'> {
    return 'local';
  }

  figures(): ClusterFigures {
    return {
      node: this.nodeId,
      nodesAlive: 1,
      busConnected: 1,
      messagesIn: 0,
      messagesOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      relaysForwarded: 0,
    };
  }
}

/** `<hostname>-<pid>`: unique among processes on different machines and on one. */
export function defaultNodeId(): string {
  return `${os.hostname()}-${process.pid}`;
}
