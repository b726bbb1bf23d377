import type { WebSocket } from 'ws';
import type { DeviceInfo, ServerMessage } from '../sync/protocol/rendezvous';
import type { OutboundQueue } from './outbound-queue';
import type { SerialQueue } from '../sync/util/serial-queue';
import type { TokenBucket } from '../sync/util/token-bucket';

/** WebSocket close codes used for bad input. */
export const CLOSE_POLICY = 1008;
export const CLOSE_AUTH_TIMEOUT = 4001;
export const CLOSE_RATE = 4002;
export const CLOSE_REPLACED = 4003;
/** Replies and pushes piled up unread toward this connection past its bound (docs/PROTOCOL.md R1, limits). */
export const CLOSE_NOT_READING = 4004;

/** One device's WebSocket, from its hello through its sign-in to its close. */
export interface Connection {
  readonly socket: WebSocket;
  readonly remote: string;
  nonce?: string;
  hello?: DeviceInfo;
  device?: DeviceInfo;
  user?: string;
  presence: 'online' | 'away';
  alive: boolean;
  readonly messages: TokenBucket;
  readonly bytes: TokenBucket;
  /** Mailbox items delivered and not yet acknowledged, with their sizes. */
  readonly inFlight: Map<string, number>;
  /** Users whose devices this one may reach, as of `ServerContext.rights.version` (account-state.ts). */
  peers?: { readonly version: number; readonly users: ReadonlySet<string> };
  authTimer?: NodeJS.Timeout;
  /** Requests are handled one at a time per connection, in order. */
  readonly queue: SerialQueue;
  /** Bytes on their way to this device, bounded. */
  readonly outbound: OutboundQueue;
  /**
   * Pushes held back while its welcome is being made (sign-in.ts): sent after it, so a push is
   * never overtaken by a welcome computed before the change it tells.
   */
  held?: ServerMessage[];
}

export function send(conn: Connection, message: ServerMessage): void {
  if (conn.held) conn.held.push(message);
  else if (conn.socket.readyState === conn.socket.OPEN) conn.outbound.sendText(JSON.stringify(message));
}

/** Sends the welcome, then what was held back while it was made. */
export function welcome(conn: Connection, message: ServerMessage & { t: 'welcome' }): void {
  const held = conn.held ?? [];
  conn.held = undefined;
  send(conn, message);
  for (const m of held) send(conn, m);
}
