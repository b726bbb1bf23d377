import type { AccountState, ServerMessage } from '../../sync/protocol/rendezvous';
import type { Connection } from '../connection';

/**
 * What the request handlers need from the other processes of a cluster (docs/PROTOCOL.md R7).
 * A single process uses LocalCluster, where nothing crosses processes; a cluster uses
 * NatsCluster. Every method that sends is fire-and-forget: a process that misses a message is
 * healed by heartbeats and snapshots, or by the devices' own resend.
 */
export interface Cluster {
  /** This process's name among the others (`--node-id`). */
  readonly nodeId: string;
  /** Starts listening; `receiver` handles what other processes send. */
  start(receiver: ClusterReceiver): Promise<void>;
  /** Says goodbye (the others drop this process's sessions at once) and stops. */
  close(): Promise<void>;

  /** A session of this process came, went or changed presence. */
  announce(event: SessionEvent): void;
  /** `user`'s presence may have changed: the other processes tell their connections of `peers`. */
  pushPresence(user: string, peers: readonly string[]): void;
  /** Sends `message` to the connections of `users` on the other processes. */
  pushToUsers(users: readonly string[], message: ServerMessage): void;
  /** Rights changed: the others drop their cached rights and send these users their new state. */
  pushRights(states: readonly UserState[]): void;
  /** Closes `session` on its process: the device signed in again here. */
  kick(session: RemoteSession): void;
  /**
   * Passes a relay frame (already encoded for the target) to the target's process. Resolves once
   * it is on its way, after waiting (the sender's socket paused) while too many of the sender's
   * bytes are unanswered; `answered` hears whether the target took it.
   */
  relay(sender: Connection, target: RemoteSession, frame: Uint8Array, answered: (outcome: RelayOutcome) => void): Promise<void>;
  /**
   * Passes a relay frame to whichever process has `device` signed in, for a device this process's
   * directory does not know: it may have signed in elsewhere a moment ago, before word of it came
   * here. No answer: a frame for a device signed in nowhere is dropped, as on one process.
   */
  relayAnywhere(device: string, frame: Uint8Array): void;
  /** Tells the target's process that mail waits for a device signed in there. */
  notifyMailbox(target: RemoteSession): void;

  /** Whether the bus answers now ('local': there is none to ask). */
  health(): Promise<'ok' | 'down' | 'local'>;
  /** Figures for /metrics. */
  figures(): ClusterFigures;
}

/** A session signed in on another process, as the directory knows it. */
export interface RemoteSession {
  readonly node: string;
  readonly device: string;
  readonly user: string;
  /** Unique per sign-in: events about an older session of the same device change nothing. */
  readonly session: string;
  readonly presence: 'online' | 'away';
}

export type SessionEvent =
  | { readonly k: 'up'; readonly device: string; readonly user: string; readonly session: string; readonly presence: 'online' | 'away' }
  | { readonly k: 'down'; readonly device: string; readonly session: string }
  | { readonly k: 'presence'; readonly device: string; readonly session: string; readonly presence: 'online' | 'away' };

export interface UserState {
  readonly user: string;
  readonly state: AccountState;
}

/**
 * 'gone': the device is no longer signed in there (it learns nothing; presence tells the sender).
 * 'unanswered': no answer came in time (set by the sending process, never sent on the bus).
 */
export type RelayOutcome = 'ok' | 'busy' | 'gone' | 'unanswered';

/** What a process does with what the others send; implemented by bus-receiver.ts. */
export interface ClusterReceiver {
  /** This process's own sessions, for a process that asks for a snapshot. */
  localSessions(): RemoteSession[];
  sessionUp(session: RemoteSession): void;
  sessionDown(node: string, device: string, session: string): void;
  sessionPresence(node: string, device: string, session: string, presence: 'online' | 'away'): void;
  /** Everything a process had signed in, replacing what was known of it (a snapshot). */
  nodeSessions(node: string, sessions: readonly RemoteSession[]): void;
  /** A process left or fell silent: its sessions are gone. */
  nodeGone(node: string): void;
  presence(user: string, peers: readonly string[]): void;
  push(users: readonly string[], message: ServerMessage): void;
  rights(states: readonly UserState[]): void;
  kick(device: string, session: string): void;
  relay(device: string, frame: Uint8Array): Promise<RelayOutcome>;
  mailbox(device: string): void;
}

export interface ClusterFigures {
  readonly node: string;
  /** Processes heard from within the liveness bound, this one included. */
  readonly nodesAlive: number;
  /** 1 while the bus is connected; always 1 without a bus. */
  readonly busConnected: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Relay frames sent to another process. */
  readonly relaysForwarded: number;
}
