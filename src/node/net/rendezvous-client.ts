/**
 * src/node/net/: a device's traffic: its one WebSocket to the rendezvous server (this file),
 * end-to-end encrypted channels to other devices over the server's relay (peer-channels.ts), and
 * the mailbox: a space's changes for offline members (mail-sync.ts) and sealed deposits
 * (sealed-deposit.ts).
 * Node layer: may import src/sync and the rest of src/node; never vscode, src/server or src/cli.
 */
import WebSocket from 'ws';
import {
  authSigningBytes,
  decodeDelivery,
  decodeRelay,
  encodeDeposit,
  encodeRelay,
  FRAME_DELIVERY,
  FRAME_RELAY,
  RENDEZVOUS_VERSION,
  RendezvousError,
  type AccountState,
  type ClientRequest,
  type DeviceInfo,
  type Endorsement,
  type Presence,
  type RendezvousErrorCode,
  type ServerMessage,
} from '../../sync/protocol/rendezvous';
import { toHex } from '../../sync/util/bytes';
import { publicDeviceOf, signWith, type DeviceKeys } from '../crypto/device-keys';
import { TokenBucket } from '../../sync/util/token-bucket';
import { ConnectError, closeFailure, connectFailure, type ConnectFailure } from './connect-failure';
import { CaFileError, trustedAuthorities } from './server-trust';

/** setTimeout's longest delay; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
export interface RendezvousClientOptions {
  readonly url: string;
  readonly keys: DeviceKeys;
  /** Register this device on first sign-in: as a new user, or as another device of a user. */
  readonly join?: { readonly name: string } | { readonly link: string };
  /** A device joining through a link code proves with this that the code's maker let it in. */
  readonly endorsement?: Endorsement;
  /**
   * How this device sees the account state the server sends: with the devices it cannot trust
   * left out (see TrustPins). Everything that reads `state` sees the result.
   */
  readonly trust?: (state: AccountState) => AccountState;
  /** 'command' connections (one-shot CLI commands) neither receive relay traffic nor replace the session. */
  readonly mode?: 'session' | 'command';
  /** Reconnect after a lost connection, with capped exponential backoff. */
  readonly reconnect?: boolean;
  readonly maxBackoffMs?: number;
  readonly requestTimeoutMs?: number;
  /** How long the WebSocket handshake may take before the attempt counts as timed out; 10 s by default. */
  readonly handshakeTimeoutMs?: number;
  /** Bandwidth limits in bytes per second for device traffic (relay and mailbox); none by default. */
  readonly limitUp?: number;
  readonly limitDown?: number;
  readonly log?: (message: string) => void;
  /** A PEM file of a private CA to trust for wss://, besides the usual public authorities. */
  readonly caFile?: string;
}

export interface RendezvousEvents {
  state(state: AccountState): void;
  presence(user: string, presence: Presence, devices: readonly string[]): void;
  vector(space: string, device: string, hash: string): void;
  relay(device: string, payload: Uint8Array): void;
  delivery(item: string, sender: string, payload: Uint8Array): void;
  connected(state: AccountState): void;
  disconnected(reason: string): void;
  /** A server error not tied to a request (a refused deposit, for instance). */
  problem(code: RendezvousErrorCode, message: string): void;
}

type Listeners = { [K in keyof RendezvousEvents]: RendezvousEvents[K][] };

/**
 * One device's connection to the rendezvous server: signs in with the device key, keeps the
 * account state current, correlates requests with replies, and reconnects when the socket
 * drops. Frames it cannot parse are reported and dropped, never thrown into the caller.
 */
export class RendezvousClient {
  readonly device: DeviceInfo;
  private socket: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly listeners: Listeners = {
    state: [],
    presence: [],
    vector: [],
    relay: [],
    delivery: [],
    connected: [],
    disconnected: [],
    problem: [],
  };
  private closed = false;
  private backoffMs = 250;
  private retryTimer: NodeJS.Timeout | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  private stateValue: AccountState | undefined;
  private firstConnect: { resolve: (s: AccountState) => void; reject: (e: Error) => void } | undefined;
  /** Why the current socket failed, typed and in the user's words, when it failed before opening. */
  private failure: ConnectFailure | undefined;
  /** Why the latest attempt to reach the server failed; kept across retries, cleared by a sign-in. */
  private lastFailureValue: ConnectFailure | undefined;
  private up: TokenBucket | undefined;
  private down: TokenBucket | undefined;
  /** Binary frames waiting for the upload limit. */
  private readonly outbox: Uint8Array[] = [];
  private outboxTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RendezvousClientOptions) {
    const k = options.keys;
    this.device = { ...publicDeviceOf(k), ...(options.endorsement ? { endorsement: options.endorsement } : {}) };
    // A quarter of a second of burst: smooth enough to honour the limit, coarse enough to stream.
    if (options.limitUp) this.up = new TokenBucket(options.limitUp, options.limitUp / 4, Date.now());
    if (options.limitDown) this.down = new TokenBucket(options.limitDown, options.limitDown / 4, Date.now());
  }

  get state(): AccountState | undefined {
    return this.stateValue;
  }

  /** Changes the bandwidth limits (bytes per second; undefined or 0 for none) from now on. */
  setLimits(limitUp: number | undefined, limitDown: number | undefined): void {
    this.up = limitUp ? new TokenBucket(limitUp, limitUp / 4, Date.now()) : undefined;
    this.down = limitDown ? new TokenBucket(limitDown, limitDown / 4, Date.now()) : undefined;
    if (!this.up && this.outbox.length > 0) {
      clearTimeout(this.outboxTimer);
      this.outboxTimer = undefined;
      for (const frame of this.outbox.splice(0)) if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(frame);
    }
  }

  /** While not signed in: why the latest attempt to reach the server failed, when one did. */
  get lastFailure(): ConnectFailure | undefined {
    return this.lastFailureValue;
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN && this.stateValue !== undefined;
  }

  on<K extends keyof RendezvousEvents>(event: K, listener: RendezvousEvents[K]): () => void {
    const list = this.listeners[event] as RendezvousEvents[K][];
    list.push(listener);
    return () => list.splice(list.indexOf(listener), 1);
  }

  /** Resolves with the account state once signed in; rejects if the first attempt fails and reconnecting is off. */
  connect(): Promise<AccountState> {
    const address = checkAddress(this.options.url);
    if (address) return Promise.reject(new RendezvousError('malformed', address));
    try {
      this.authorities();
    } catch (err) {
      if (err instanceof CaFileError) return Promise.reject(new ConnectError('caFile', err.message));
      throw err;
    }
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject };
      this.open();
    });
  }

  request(request: ClientRequest): Promise<Record<string, unknown>> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || !this.stateValue) {
      return Promise.reject(new RendezvousError('unauthenticated', 'not connected to the server'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RendezvousError('internal', `the server did not answer ${request.t} in time`));
      }, this.options.requestTimeoutMs ?? 30_000);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...request, id }));
    });
  }

  /** False when not connected: the frame was not sent. */
  relay(device: string, payload: Uint8Array): boolean {
    return this.sendBinary(encodeRelay(device, payload));
  }

  deposit(item: string, recipients: readonly string[], payload: Uint8Array): boolean {
    return this.sendBinary(encodeDeposit(item, recipients, payload));
  }

  /** The bandwidth limits now, for the direct links to share (PROTOCOL.md R8): one cap for all device traffic. */
  get limiters(): { readonly up: TokenBucket | undefined; readonly down: TokenBucket | undefined } {
    return { up: this.up, down: this.down };
  }

  /** Bytes queued (in the socket, or waiting for the upload limit) but not yet sent. */
  get buffered(): number {
    return (this.socket?.bufferedAmount ?? 0) + this.outbox.reduce((n, f) => n + f.length, 0);
  }

  /**
   * Resolves true once at most `bytes` are queued, false if the connection is lost first: lets
   * a producer of large payloads read the next one from disk only when there is room for it.
   */
  async drained(bytes: number): Promise<boolean> {
    for (;;) {
      if (this.socket?.readyState !== WebSocket.OPEN || this.closed) return false;
      if (this.buffered <= bytes) return true;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.resumeTimer);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.close(1000, 'bye');
      setTimeout(() => socket.terminate(), 2000).unref();
    });
  }

  private sendBinary(frame: Uint8Array): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || !this.stateValue) return false;
    if (!this.up) socket.send(frame);
    else {
      this.outbox.push(frame);
      this.drainOutbox();
    }
    return true;
  }

  /** Sends queued frames as the upload limit allows, then waits for the bucket to refill. */
  private drainOutbox(): void {
    if (this.outboxTimer) return;
    while (this.outbox.length > 0) {
      const wait = this.up!.debtMs(Date.now());
      if (wait > 0) {
        this.outboxTimer = setTimeout(() => {
          this.outboxTimer = undefined;
          this.drainOutbox();
        }, wait);
        return;
      }
      const frame = this.outbox.shift()!;
      if (this.socket?.readyState !== WebSocket.OPEN) continue; // Lost with the connection; the engine resends.
      this.socket.send(frame);
      this.up!.spend(frame.length, Date.now());
    }
  }

  /** Counts received bytes against the download limit; over it, stops reading the socket for a while (TCP pushes back). */
  private throttleDown(socket: WebSocket, bytes: number): void {
    if (!this.down) return;
    const wait = this.down.spend(bytes, Date.now());
    if (wait <= 0 || socket.isPaused) return;
    socket.pause();
    // Cleared by close(); a wait past setTimeout's range (about 24.8 days) would fire at once.
    this.resumeTimer = setTimeout(() => socket.resume(), Math.min(wait, MAX_TIMER_MS));
  }

  private seen(state: AccountState): AccountState {
    return this.options.trust ? this.options.trust(state) : state;
  }

  private emit<K extends keyof RendezvousEvents>(event: K, ...args: Parameters<RendezvousEvents[K]>): void {
    for (const listener of [...this.listeners[event]] as ((...a: Parameters<RendezvousEvents[K]>) => void)[]) {
      try {
        listener(...args);
      } catch (err) {
        this.options.log?.(`listener for ${event} failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }

  /** The CAs to trust for wss://, when a private one is given; Node's own store otherwise. */
  private authorities(): string[] | undefined {
    return this.options.caFile === undefined ? undefined : trustedAuthorities(this.options.caFile);
  }

  private open(): void {
    let ca: string[] | undefined;
    try {
      ca = this.authorities();
    } catch (err) {
      // The file went away or changed since connect() checked it: fail this attempt, retry as usual.
      this.options.log?.((err as Error).message);
      this.failure = { reason: 'caFile', message: (err as Error).message };
      this.lastFailureValue = this.failure;
      this.retryTimer = setTimeout(() => this.onClose(undefined, 1006, 'no CA file'), 0);
      return;
    }
    const socket = new WebSocket(this.options.url, {
      maxPayload: 64 * 1024 * 1024,
      handshakeTimeout: this.options.handshakeTimeoutMs ?? 10_000,
      ...(ca ? { ca } : {}),
    });
    this.socket = socket;
    this.stateValue = undefined;
    this.failure = undefined;
    socket.on('open', () => socket.send(JSON.stringify({ t: 'hello', v: RENDEZVOUS_VERSION, device: this.device })));
    socket.on('message', (data, isBinary) => {
      try {
        const bytes = toBytes(data);
        if (isBinary) this.throttleDown(socket, bytes.length);
        this.onMessage(socket, bytes, isBinary);
      } catch (err) {
        this.options.log?.(`dropped a frame from the server: ${(err as Error).message}`);
      }
    });
    socket.on('error', (err) => {
      if (this.stateValue) this.options.log?.(`connection to ${this.options.url}: ${err.message}`);
      else {
        this.failure = connectFailure(this.options.url, err);
        this.lastFailureValue = this.failure;
        this.options.log?.(this.failure.message);
      }
    });
    socket.on('close', (code, reason) => this.onClose(socket, code, reason.toString()));
  }

  private onMessage(socket: WebSocket, bytes: Uint8Array, isBinary: boolean): void {
    if (isBinary) {
      if (bytes[0] === FRAME_RELAY) {
        const { device, payload } = decodeRelay(bytes);
        this.emit('relay', device, payload);
      } else if (bytes[0] === FRAME_DELIVERY) {
        const { item, sender, payload } = decodeDelivery(bytes);
        this.emit('delivery', item, sender, payload);
      }
      return;
    }
    const message = JSON.parse(new TextDecoder().decode(bytes)) as ServerMessage;
    switch (message.t) {
      case 'challenge': {
        const signature = toHex(signWith(this.options.keys, authSigningBytes(message.nonce, this.device.id)));
        socket.send(
          JSON.stringify({
            t: 'auth',
            signature,
            mode: this.options.mode ?? 'session',
            ...(this.options.join ? { join: this.options.join } : {}),
          }),
        );
        return;
      }
      case 'welcome': {
        const state = this.seen(message.state);
        this.stateValue = state;
        this.backoffMs = 250;
        this.lastFailureValue = undefined;
        this.firstConnect?.resolve(state);
        this.firstConnect = undefined;
        this.emit('connected', state);
        return;
      }
      case 'state': {
        const state = this.seen(message.state);
        this.stateValue = state;
        this.emit('state', state);
        return;
      }
      case 'presence':
        this.emit('presence', message.user, message.presence, message.devices);
        return;
      case 'vector':
        this.emit('vector', message.space, message.device, message.hash);
        return;
      case 'reply': {
        const waiting = this.pending.get(message.id);
        if (!waiting) return;
        this.pending.delete(message.id);
        clearTimeout(waiting.timer);
        waiting.resolve(message.result);
        return;
      }
      case 'error': {
        const error = new RendezvousError(message.code, message.message);
        const waiting = message.id === undefined ? undefined : this.pending.get(message.id);
        if (waiting) {
          this.pending.delete(message.id!);
          clearTimeout(waiting.timer);
          waiting.reject(error);
        } else if (this.firstConnect && !this.stateValue) {
          this.firstConnect.reject(error);
          this.firstConnect = undefined;
          // A refusal at sign-in (unknown device, bad link) will not get better by retrying.
          this.closed = true;
        } else this.emit('problem', message.code, message.message);
        return;
      }
    }
  }

  private onClose(socket: WebSocket | undefined, code: number, reason: string): void {
    if (socket && this.socket !== socket) return;
    const wasUp = this.stateValue !== undefined;
    this.stateValue = undefined;
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new RendezvousError('unauthenticated', `connection closed (${code} ${reason})`));
      this.pending.delete(id);
    }
    if (wasUp) this.emit('disconnected', `${code} ${reason}`.trim());
    // Closed before sign-in with no socket error to say why: the close code does.
    if (!wasUp && !this.failure && socket) {
      this.failure = closeFailure(this.options.url, code, reason);
      this.lastFailureValue = this.failure;
    }
    if (this.closed || !this.options.reconnect) {
      const failure = this.failure;
      const why = `could not sign in to ${this.options.url} (${`${code} ${reason}`.trim()})`;
      this.firstConnect?.reject(failure ? new ConnectError(failure.reason, failure.message) : new RendezvousError('unauthenticated', why));
      this.firstConnect = undefined;
      return;
    }
    const delay = this.backoffMs * (0.75 + Math.random() / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }
}

/** Why `url` cannot be a server address, or undefined when it can. */
export function checkAddress(url: string): string | undefined {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = '';
  }
  return protocol === 'ws:' || protocol === 'wss:' ? undefined : `${url} is not a server address: write it as ws://HOST:PORT or wss://HOST`;
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  const buf = Array.isArray(data)
    ? Buffer.concat(data.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)))
    : Buffer.isBuffer(data)
      ? data
      : Buffer.from(data);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
