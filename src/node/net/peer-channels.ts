import { CryptoError, type DevicePublicKeys, type DeviceKeys } from '../crypto/device-keys';
import { SecureSession } from '../crypto/secure-session';
import { RelayKind } from './payload-kind';

/** Frames that fail to open in a row before the channel starts over. */
const MAX_FAILURES = 3;

/** Messages kept while a channel's handshake is under way; the engine resends what is dropped. */
const MAX_QUEUED = 256;

interface Channel {
  session: SecureSession;
  queue: Uint8Array[];
  failures: number;
  helloAt: number;
}

/**
 * Sealed frames kept, per device, that arrived before the hello that keys them: with two paths
 * (relay and direct link) a frame can overtake the hello sent just before it on the other path.
 */
const MAX_EARLY_BYTES = 16 * 1024 * 1024;

/** A hello not answered in this long is sent again (it may have gone to a device offline then). */
const HELLO_RETRY_MS = 2000;

export interface PeerChannelOptions {
  readonly keys: DeviceKeys;
  readonly deviceId: string;
  /** Public keys of a device this one may talk to; undefined refuses the device. */
  readonly lookup: (device: string) => DevicePublicKeys | undefined;
  /** Sends a relay payload to a device; false when not connected. */
  readonly relay: (device: string, payload: Uint8Array) => boolean;
  /** Sends it over the device's direct link instead (PROTOCOL.md R8); false when there is none up. */
  readonly direct?: (device: string, payload: Uint8Array) => boolean;
  readonly onMessage: (device: string, plaintext: Uint8Array) => void;
  readonly onReady?: (device: string) => void;
  readonly log?: (message: string) => void;
}

/**
 * End-to-end encrypted channels to other devices over the server's relay, or a direct link when
 * one is up (the same session on either path): one `SecureSession` per remote device. Both sides run the same symmetric handshake. A first hello on a channel
 * that is already up means the peer restarted: we start over and answer with a reply hello,
 * which itself never restarts anything, so a duplicated or replayed hello cannot make the two
 * sides swap hellos forever. Frames that fail to open are dropped and counted; several in a row
 * (keys out of step) start the channel over.
 */
export class PeerChannels {
  private readonly channels = new Map<string, Channel>();
  private readonly early = new Map<string, { frames: Uint8Array[]; bytes: number }>();
  bytesSent = 0;
  bytesReceived = 0;
  /** Of every payload sent, the bytes that went over direct links and over the relay. */
  bytesDirect = 0;
  bytesRelayed = 0;
  dropped = 0;
  /**
   * Sealed frames refused as already received: a direct link that went down hands the frames the
   * peer had not acknowledged to the relay, and some of those had arrived (PROTOCOL.md R8).
   */
  duplicates = 0;

  constructor(private readonly options: PeerChannelOptions) {}

  isReady(device: string): boolean {
    return this.channels.get(device)?.session.ready ?? false;
  }

  /** Encrypts and relays, or queues while the handshake runs. False when the device is refused. */
  send(device: string, plaintext: Uint8Array): boolean {
    let channel = this.channels.get(device);
    if (!channel) {
      channel = this.start(device);
      if (!channel) return false;
    }
    if (!channel.session.ready) {
      if (channel.queue.length >= MAX_QUEUED) channel.queue.shift();
      channel.queue.push(plaintext);
      this.retryHello(device, channel);
      return true;
    }
    return this.sendSealed(device, channel, plaintext);
  }

  /** Starts a handshake unless a channel exists; repeats an unanswered one. */
  connect(device: string): void {
    const channel = this.channels.get(device);
    if (!channel) this.start(device);
    else if (!channel.session.ready) this.retryHello(device, channel);
  }

  private retryHello(device: string, channel: Channel): void {
    const now = Date.now();
    if (now - channel.helloAt < HELLO_RETRY_MS) return;
    channel.helloAt = now;
    this.transmit(device, prefixed(RelayKind.Hello, channel.session.hello));
  }

  /** Forgets a device's channel (it went offline); the next send starts a new handshake. */
  reset(device: string): void {
    this.channels.delete(device);
    this.early.delete(device);
  }

  onRelay(device: string, payload: Uint8Array): void {
    this.receive(device, payload, false);
  }

  /**
   * A payload that came over the device's authenticated direct link. False when a sealed frame
   * failed to open: the caller closes the link. Such failures never start the channel over, so
   * that nobody on the path can reset channels by mangling a link.
   */
  onDirect(device: string, payload: Uint8Array): boolean {
    return this.receive(device, payload, true);
  }

  private receive(device: string, payload: Uint8Array, direct: boolean): boolean {
    try {
      if (payload[0] === RelayKind.Hello || payload[0] === RelayKind.ReplyHello)
        this.onHandshake(device, payload.subarray(1), payload[0] === RelayKind.ReplyHello);
      else if (payload[0] === RelayKind.Sealed) this.onSealed(device, payload.subarray(1), direct);
      else throw new Error(`unknown payload type ${payload[0]}`);
      return true;
    } catch (err) {
      if (err instanceof CryptoError && err.code === 'replay') {
        this.duplicates++;
        return true;
      }
      this.dropped++;
      this.options.log?.(`dropped a frame from device ${device}${direct ? ' (direct link)' : ''}: ${(err as Error).message}`);
      return !(direct && err instanceof CryptoError && err.code === 'decrypt');
    }
  }

  private start(device: string, kind: number = RelayKind.Hello): Channel | undefined {
    const remote = this.options.lookup(device);
    if (!remote) return undefined;
    const { session, hello } = SecureSession.start(this.options.keys, this.options.deviceId, remote, device);
    const channel: Channel = { session, queue: [], failures: 0, helloAt: Date.now() };
    this.channels.set(device, channel);
    this.transmit(device, prefixed(kind, hello));
    return channel;
  }

  private onHandshake(device: string, hello: Uint8Array, reply: boolean): void {
    let channel = this.channels.get(device);
    if (channel?.session.ready) {
      const known = channel.session.remoteHello;
      if (reply || (known && known.length === hello.length && known.every((b, i) => b === hello[i]))) return;
    }
    if (!channel || channel.session.ready) {
      // No channel yet, or the other side restarted: answer with a fresh session of our own.
      const queue = channel?.queue ?? [];
      channel = this.start(device, RelayKind.ReplyHello);
      if (!channel) throw new Error('device not allowed');
      channel.queue = queue;
    } else if (!reply) {
      // Our own hello may never have arrived (sent while the peer was away): repeat it as a
      // reply, which the peer accepts if it still waits and ignores if it has it.
      this.transmit(device, prefixed(RelayKind.ReplyHello, channel.session.hello));
    }
    channel.session.accept(hello);
    const queued = channel.queue;
    channel.queue = [];
    for (const plaintext of queued) this.sendSealed(device, channel, plaintext);
    this.options.onReady?.(device);
    this.openEarly(device);
  }

  /** Keeps a sealed frame that came before its channel's hello, within bounds. */
  private keepEarly(device: string, frame: Uint8Array): void {
    if (!this.options.lookup(device)) throw new Error('device not allowed');
    const kept = this.early.get(device) ?? { frames: [], bytes: 0 };
    if (kept.bytes + frame.length > MAX_EARLY_BYTES) throw new Error('no session, and too many frames wait for one');
    kept.frames.push(frame.slice());
    kept.bytes += frame.length;
    this.early.set(device, kept);
  }

  /** Opens the frames that came before the hello. They may belong to an older session: failures here restart nothing. */
  private openEarly(device: string): void {
    const kept = this.early.get(device);
    if (!kept) return;
    this.early.delete(device);
    for (const frame of kept.frames) {
      try {
        this.onSealed(device, frame, true);
      } catch (err) {
        if (err instanceof CryptoError && err.code === 'replay') this.duplicates++;
        else this.dropped++;
      }
    }
  }

  private onSealed(device: string, frame: Uint8Array, direct: boolean): void {
    const channel = this.channels.get(device);
    if (!channel?.session.ready) {
      this.keepEarly(device, frame);
      return;
    }
    let plaintext: Uint8Array;
    try {
      plaintext = channel.session.open(frame);
    } catch (err) {
      if (!(err instanceof CryptoError) || err.code === 'replay' || direct) throw err;
      if (++channel.failures >= MAX_FAILURES) {
        this.channels.delete(device);
        this.start(device);
      }
      throw err;
    }
    channel.failures = 0;
    this.bytesReceived += frame.length;
    this.options.onMessage(device, plaintext);
  }

  private sendSealed(device: string, channel: Channel, plaintext: Uint8Array): boolean {
    const frame = prefixed(RelayKind.Sealed, channel.session.seal(plaintext));
    this.bytesSent += frame.length;
    return this.transmit(device, frame);
  }

  /** The device's direct link when one is up, else the relay. */
  private transmit(device: string, payload: Uint8Array): boolean {
    if (this.options.direct?.(device, payload)) {
      this.bytesDirect += payload.length;
      return true;
    }
    return this.relayed(device, payload);
  }

  /** Sends over the relay: also payloads a direct link took but could not deliver, sent again in order. */
  relayed(device: string, payload: Uint8Array): boolean {
    this.bytesRelayed += payload.length;
    return this.options.relay(device, payload);
  }
}

function prefixed(kind: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + bytes.length);
  out[0] = kind;
  out.set(bytes, 1);
  return out;
}
