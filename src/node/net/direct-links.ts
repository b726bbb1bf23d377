import * as net from 'node:net';
import type { DeviceKeys, DevicePublicKeys } from '../crypto/device-keys';
import { DirectLink, type DirectLinkOptions, type LinkTimings } from './direct-link';
import { listenAddresses } from './lan-discovery';

/** Sockets accepted that have not proved who they are yet, at most; more are closed at once. */
export const MAX_UNAUTHENTICATED = 32;
/** Addresses kept per device: the most recently heard. */
export const MAX_ADDRESSES = 16;
/** Dialing a device that cannot be reached again after 2 s, then 4 s, ... at most 30 s apart. */
export const FIRST_RETRY_MS = 2000;
export const MAX_RETRY_MS = 30_000;

/** `--listen` could not be used: a port in use, an address not on this host. */
export class DirectListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirectListenError';
  }
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** "HOST:PORT" with an IPv4 HOST (0.0.0.0 for every address) and a port 0-65535 (0: any free port); undefined if not. */
export function parseAddress(text: string): ListenAddress | undefined {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const host = match[1]!;
  const port = Number(match[2]);
  if (host.split('.').some((b) => Number(b) > 255) || port > 65535) return undefined;
  return { host, port };
}

export interface DirectLinksOptions {
  readonly keys: DeviceKeys;
  readonly deviceId: string;
  readonly lookup: (device: string) => DevicePublicKeys | undefined;
  readonly listen: ListenAddress;
  /** A payload from a device over its link; false when it failed to open (the link closes). */
  readonly onPayload: (device: string, payload: Uint8Array) => boolean;
  /** Payloads a link took but the peer did not acknowledge before it closed: to be sent another way, in order. */
  readonly fallback: (device: string, payloads: Uint8Array[]) => void;
  /** A device's link came up or went down. */
  readonly onPathChange: (device: string, direct: boolean) => void;
  readonly log: (message: string) => void;
  /** Test only: the addresses announced instead of the listen address (a forwarder in front of it). */
  readonly advertise?: readonly string[];
  readonly timings?: LinkTimings;
  /** The bandwidth limits, shared with the relay. */
  readonly limits?: DirectLinkOptions['limits'];
}

interface Peer {
  /** Address -> when last heard of. */
  readonly addresses: Map<string, number>;
  link: DirectLink | undefined;
  dialing: boolean;
  attempt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The direct links of this device (PROTOCOL.md R8): a TCP server others dial, the addresses
 * other devices said they listen at, and at most one authenticated link per device, which the
 * channel to that device uses instead of the relay while it is up. Both sides may dial; when
 * two links to one device come up, both keep the one the lower device id dialed.
 */
export class DirectLinks {
  private readonly peers = new Map<string, Peer>();
  private readonly unauthenticated = new Set<DirectLink>();
  private closed = false;
  bytesSent = 0;

  private constructor(
    private readonly options: DirectLinksOptions,
    private readonly server: net.Server,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(options: DirectLinksOptions): Promise<DirectLinks> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${options.listen.host}:${options.listen.port}`;
        if (err.code === 'EADDRINUSE') reject(new DirectListenError(`cannot listen on ${where}: the port is in use`));
        else if (err.code === 'EADDRNOTAVAIL')
          reject(new DirectListenError(`cannot listen on ${where}: no interface of this host has that address`));
        else reject(new DirectListenError(`cannot listen on ${where}: ${err.message}`));
      });
      server.listen({ host: options.listen.host, port: options.listen.port, exclusive: true }, () => resolve());
    });
    server.on('error', (err) => options.log(`direct links: ${err.message}`));
    return new DirectLinks(options, server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Where others can dial us, as "ip:port". */
  addresses(): string[] {
    if (this.options.advertise) return [...this.options.advertise];
    return listenAddresses(this.options.listen.host).map((ip) => `${ip}:${this.port}`);
  }

  isDirect(device: string): boolean {
    return this.peers.get(device)?.link?.up ?? false;
  }

  /** Sends over the device's link; false when there is none (the caller uses the relay). */
  send(device: string, payload: Uint8Array): boolean {
    const link = this.peers.get(device)?.link;
    if (!link?.send(payload)) return false;
    this.bytesSent += payload.length;
    return true;
  }

  /**
   * `device` says it listens at `addresses` (sealed on its channel, or a signed LAN broadcast).
   * Hearing it dials at once, whatever the backoff, so a network that came back is used again.
   */
  learn(device: string, addresses: readonly string[]): void {
    if (this.closed || device === this.options.deviceId || !this.options.lookup(device)) return;
    const peer = this.peer(device);
    const now = Date.now();
    for (const a of addresses) {
      if (!parseAddress(a) || parseAddress(a)!.port === 0) continue;
      peer.addresses.delete(a);
      peer.addresses.set(a, now);
    }
    while (peer.addresses.size > MAX_ADDRESSES) peer.addresses.delete(peer.addresses.keys().next().value!);
    if (peer.link || peer.dialing) return;
    clearTimeout(peer.timer);
    peer.timer = undefined;
    peer.attempt = 0;
    this.dial(device);
  }

  /** The account changed: links to devices no longer allowed close, and they are not dialed again. */
  recheck(): void {
    for (const [device, peer] of this.peers) {
      if (this.options.lookup(device)) continue;
      clearTimeout(peer.timer);
      this.peers.delete(device);
      peer.link?.close('the device is no longer allowed');
    }
  }

  close(): void {
    this.closed = true;
    this.server.close();
    for (const link of this.unauthenticated) link.close('closing');
    for (const peer of this.peers.values()) {
      clearTimeout(peer.timer);
      peer.link?.close('closing');
    }
  }

  private peer(device: string): Peer {
    let peer = this.peers.get(device);
    if (!peer) {
      peer = { addresses: new Map(), link: undefined, dialing: false, attempt: 0, timer: undefined };
      this.peers.set(device, peer);
    }
    return peer;
  }

  private accept(socket: net.Socket): void {
    if (this.closed || this.unauthenticated.size >= MAX_UNAUTHENTICATED) {
      socket.destroy();
      return;
    }
    this.track(socket, undefined);
  }

  /** Tries the device's addresses, newest first, one at a time; when none answers, again later. */
  private dial(device: string): void {
    const peer = this.peers.get(device);
    if (!peer || this.closed || peer.link || peer.dialing || !this.options.lookup(device)) return;
    const addresses = [...peer.addresses.keys()].reverse();
    if (addresses.length === 0) return;
    peer.dialing = true;
    const next = (i: number): void => {
      if (this.closed || peer.link?.up || this.peers.get(device) !== peer) {
        peer.dialing = false;
        return;
      }
      if (i >= addresses.length) {
        peer.dialing = false;
        this.retryLater(device, peer);
        return;
      }
      const { host, port } = parseAddress(addresses[i]!)!;
      const socket = net.connect({ host, port });
      this.track(socket, device, (up) => (up ? (peer.dialing = false) : next(i + 1)));
    };
    next(0);
  }

  private retryLater(device: string, peer: Peer): void {
    clearTimeout(peer.timer);
    const wait = Math.min(FIRST_RETRY_MS * 2 ** peer.attempt, MAX_RETRY_MS);
    peer.attempt++;
    peer.timer = setTimeout(() => {
      peer.timer = undefined;
      this.dial(device);
    }, wait);
    peer.timer.unref?.();
  }

  /** A link over `socket`; `dialed` is told whether it came up (dialing side only). */
  private track(socket: net.Socket, expected: string | undefined, dialed?: (up: boolean) => void): void {
    let wasUp = false;
    const link = new DirectLink({
      socket,
      localId: this.options.deviceId,
      keys: this.options.keys,
      ...(expected !== undefined ? { expected } : {}),
      lookup: this.options.lookup,
      ...(this.options.timings ? { timings: this.options.timings } : {}),
      ...(this.options.limits ? { limits: this.options.limits } : {}),
      onUp: (l) => {
        wasUp = true;
        this.unauthenticated.delete(l);
        this.onUp(l);
        dialed?.(true);
      },
      onPayload: (l, payload) => this.options.onPayload(l.device!, payload),
      onClose: (l, unacked, reason) => {
        this.unauthenticated.delete(l);
        if (wasUp) this.onDown(l, unacked, reason);
        else {
          if (expected !== undefined) this.options.log(`direct link to device ${expected} failed: ${reason}`);
          dialed?.(false);
        }
      },
    });
    if (!link.closed) this.unauthenticated.add(link);
  }

  private onUp(link: DirectLink): void {
    const device = link.device!;
    if (this.closed || !this.options.lookup(device)) {
      link.close('not wanted');
      return;
    }
    const peer = this.peer(device);
    const old = peer.link;
    if (old && !old.closed) {
      // Two links to one device: both sides keep the one the lower id dialed (or the newer of two alike).
      const preferred = this.options.deviceId < device ? this.options.deviceId : device;
      if (old.dialer === preferred && link.dialer !== preferred) {
        link.close('a link to this device is already up');
        return;
      }
      peer.link = link;
      old.close('replaced by a newer link');
    } else peer.link = link;
    clearTimeout(peer.timer);
    peer.timer = undefined;
    peer.attempt = 0;
    this.options.log(`direct link to device ${device} is up`);
    this.options.onPathChange(device, true);
  }

  private onDown(link: DirectLink, unacked: Uint8Array[], reason: string): void {
    const device = link.device!;
    if (unacked.length > 0) this.options.fallback(device, unacked);
    const peer = this.peers.get(device);
    if (!peer || peer.link !== link) return;
    peer.link = undefined;
    this.options.log(`direct link to device ${device} is down (${reason}); using the relay`);
    this.options.onPathChange(device, false);
    if (!this.closed) this.retryLater(device, peer);
  }
}
