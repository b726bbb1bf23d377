import * as dgram from 'node:dgram';
import * as os from 'node:os';
import type { DeviceKeys, DevicePublicKeys } from '../crypto/device-keys';
import { encodeAnnouncement, LAN_PORT, verifyAnnouncement } from './lan-announcement';

/** How often a device says where it listens on the LAN. */
export const ANNOUNCE_EVERY_MS = 30_000;

export interface LanDiscoveryOptions {
  readonly keys: DeviceKeys;
  readonly deviceId: string;
  /** The address the link server listens on: it decides which interfaces are told. */
  readonly listenHost: string;
  readonly tcpPort: () => number;
  readonly lookup: (device: string) => DevicePublicKeys | undefined;
  /** A device we may connect to says it listens at `address` (its datagram's source IP and its port). */
  readonly onCandidate: (device: string, address: string) => void;
  readonly log: (message: string) => void;
  readonly port?: number;
}

/**
 * LAN discovery (PROTOCOL.md R8): signed UDP broadcasts on the interfaces the link server
 * listens on, at start and every 30 s; any daemon on the host hears them (the socket reuses the
 * address). Only announcements from devices we may connect to, signed by their key, count.
 */
export class LanDiscovery {
  private socket: dgram.Socket | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(private readonly options: LanDiscoveryOptions) {}

  /** undefined when the listen address reaches no LAN (loopback): then nothing is broadcast or heard. */
  static async start(options: LanDiscoveryOptions): Promise<LanDiscovery | undefined> {
    if (broadcastAddresses(options.listenHost).length === 0) return undefined;
    const discovery = new LanDiscovery(options);
    await discovery.open();
    return discovery;
  }

  private async open(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    socket.on('message', (data, from) => {
      const heard = verifyAnnouncement(new Uint8Array(data.buffer, data.byteOffset, data.length), this.options.lookup, Date.now());
      if (heard && heard.device !== this.options.deviceId) this.options.onCandidate(heard.device, `${from.address}:${heard.port}`);
    });
    socket.on('error', (err) => this.options.log(`LAN discovery: ${err.message}`));
    await new Promise<void>((resolve) => {
      socket.once('error', () => resolve());
      socket.bind(this.options.port ?? LAN_PORT, () => {
        socket.setBroadcast(true);
        resolve();
      });
    });
    this.announce();
    this.timer = setInterval(() => this.announce(), ANNOUNCE_EVERY_MS);
  }

  /** Says where we listen, now (at start, and when the addresses change). */
  announce(): void {
    const socket = this.socket;
    if (!socket) return;
    const datagram = encodeAnnouncement(this.options.keys, this.options.deviceId, this.options.tcpPort(), Date.now());
    for (const address of broadcastAddresses(this.options.listenHost)) {
      try {
        socket.send(datagram, this.options.port ?? LAN_PORT, address, () => undefined);
      } catch {
        // The socket failed to bind: announcing is best effort.
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.socket?.close();
    this.socket = undefined;
  }
}

/**
 * The IPv4 broadcast addresses of the interfaces `listenHost` covers: every non-internal one for
 * an unspecified host, the interface of a given address, none for a loopback address.
 */
export function broadcastAddresses(listenHost: string): string[] {
  const out: string[] = [];
  for (const infos of Object.values(os.networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      if (listenHost !== '0.0.0.0' && listenHost !== '' && listenHost !== info.address) continue;
      out.push(broadcastOf(info.address, info.netmask));
    }
  }
  return [...new Set(out)];
}

function broadcastOf(address: string, netmask: string): string {
  const a = address.split('.').map(Number);
  const m = netmask.split('.').map(Number);
  return a.map((byte, i) => (byte | (~m[i]! & 255)) & 255).join('.');
}

/** The IPv4 addresses a link server on `listenHost` can be reached at, from other hosts or (loopback) this one. */
export function listenAddresses(listenHost: string): string[] {
  if (listenHost !== '0.0.0.0' && listenHost !== '') return [listenHost];
  const out: string[] = [];
  for (const infos of Object.values(os.networkInterfaces()))
    for (const info of infos ?? []) if (info.family === 'IPv4' && !info.internal) out.push(info.address);
  return out;
}
