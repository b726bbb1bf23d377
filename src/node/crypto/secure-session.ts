import * as crypto from 'node:crypto';
import { compareBytes, concatBytes, utf8 } from '../../sync/util/bytes';
import {
  agree,
  agreePrivateKey,
  bytes,
  CryptoError,
  signWith,
  verifySignature,
  type DeviceKeys,
  type DevicePublicKeys,
} from './device-keys';
import { ReplayWindow } from './replay-window';

const VERSION = 1;
/** version(1) | ephemeral X25519 public(32) | nonce(16) | Ed25519 signature(64) */
const HELLO_BYTES = 1 + 32 + 16 + 64;
const COUNTER_BYTES = 8;
const TAG_BYTES = 16;
const MAX_MESSAGES = 2 ** 48;

/**
 * An authenticated, encrypted channel between two devices that know each other's public keys.
 * Both sides run the same code: each sends a signed hello carrying a fresh X25519 key, each
 * accepts the other's. Keys come from HKDF over the ephemeral-ephemeral and static-static
 * agreements, one per direction; frames are ChaCha20-Poly1305 under a 64-bit counter, and a
 * sliding window refuses replays while tolerating reordering.
 */
export class SecureSession {
  private sendKey: Uint8Array | undefined;
  private receiveKey: Uint8Array | undefined;
  private sendCounter = 0;
  private readonly received = new ReplayWindow();

  private constructor(
    private readonly local: DeviceKeys,
    private readonly localId: string,
    private readonly remote: DevicePublicKeys,
    private readonly remoteId: string,
    private readonly ephemeralSecret: Uint8Array,
    readonly hello: Uint8Array,
  ) {}

  static start(
    local: DeviceKeys,
    localId: string,
    remote: DevicePublicKeys,
    remoteId: string,
    random: (n: number) => Uint8Array = (n) => bytes(crypto.randomBytes(n)),
  ): { session: SecureSession; hello: Uint8Array } {
    if (localId === remoteId) throw new CryptoError('badKey', 'a device cannot open a session with itself');
    const ephemeralSecret = random(32);
    const ephemeralPublic = bytes(
      crypto.createPublicKey(agreePrivateKey(ephemeralSecret)).export({ format: 'der', type: 'spki' }).subarray(-32),
    );
    const nonce = random(16);
    const hello = new Uint8Array(HELLO_BYTES);
    hello[0] = VERSION;
    hello.set(ephemeralPublic, 1);
    hello.set(nonce, 33);
    hello.set(signWith(local, transcript(localId, remoteId, hello.subarray(0, 49))), 49);
    const session = new SecureSession(local, localId, remote, remoteId, ephemeralSecret, hello);
    return { session, hello };
  }

  get ready(): boolean {
    return this.sendKey !== undefined;
  }

  /** The peer's hello this session was keyed with. */
  remoteHello: Uint8Array | undefined;

  accept(remoteHello: Uint8Array): void {
    // Accepting twice would restart the counter under the same keys: a reused nonce.
    if (this.sendKey) throw new CryptoError('malformed', 'session already established: start a new one');
    if (remoteHello.length !== HELLO_BYTES || remoteHello[0] !== VERSION)
      throw new CryptoError('malformed', 'hello has the wrong size or version');
    if (
      !verifySignature(
        this.remote.signPublic,
        transcript(this.remoteId, this.localId, remoteHello.subarray(0, 49)),
        remoteHello.subarray(49),
      )
    ) {
      throw new CryptoError('badSignature', `hello from ${this.remoteId} is not signed by its key`);
    }
    const ikm = concatBytes([
      agree(this.ephemeralSecret, remoteHello.subarray(1, 33)),
      agree(this.local.agreeSecret, this.remote.agreePublic),
    ]);
    const [first, second] = compareBytes(this.hello, remoteHello) < 0 ? [this.hello, remoteHello] : [remoteHello, this.hello];
    const salt = bytes(crypto.createHash('sha256').update(first).update(second).digest());
    const [lowId, highId] = this.localId < this.remoteId ? [this.localId, this.remoteId] : [this.remoteId, this.localId];
    const okm = bytes(Buffer.from(crypto.hkdfSync('sha256', ikm, salt, `sf-session-v1${lowId}${highId}`, 64)));
    const lowToHigh = okm.slice(0, 32);
    const highToLow = okm.slice(32, 64);
    this.sendKey = this.localId === lowId ? lowToHigh : highToLow;
    this.receiveKey = this.localId === lowId ? highToLow : lowToHigh;
    this.remoteHello = remoteHello.slice();
  }

  seal(plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    if (!this.sendKey) throw new CryptoError('malformed', 'session not established');
    if (this.sendCounter >= MAX_MESSAGES) throw new CryptoError('malformed', 'session used up: start a new one');
    const counter = this.sendCounter++;
    const header = counterBytes(counter);
    const cipher = crypto.createCipheriv('chacha20-poly1305', this.sendKey, nonceOf(counter), { authTagLength: TAG_BYTES });
    cipher.setAAD(concatBytes([header, aad]), { plaintextLength: plaintext.length });
    const body = cipher.update(plaintext);
    cipher.final();
    return concatBytes([header, bytes(body), bytes(cipher.getAuthTag())]);
  }

  open(frame: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    if (!this.receiveKey) throw new CryptoError('malformed', 'session not established');
    if (frame.length < COUNTER_BYTES + TAG_BYTES) throw new CryptoError('malformed', 'frame too short');
    const header = frame.subarray(0, COUNTER_BYTES);
    const counter = Number(new DataView(header.buffer, header.byteOffset, 8).getBigUint64(0));
    if (!Number.isSafeInteger(counter) || counter >= MAX_MESSAGES) throw new CryptoError('malformed', 'counter out of range');
    if (this.received.seen(counter)) throw new CryptoError('replay', `frame ${counter} was already received or is too old`);
    const decipher = crypto.createDecipheriv('chacha20-poly1305', this.receiveKey, nonceOf(counter), { authTagLength: TAG_BYTES });
    decipher.setAAD(concatBytes([header, aad]), { plaintextLength: frame.length - COUNTER_BYTES - TAG_BYTES });
    decipher.setAuthTag(frame.subarray(frame.length - TAG_BYTES));
    let plaintext: Uint8Array;
    try {
      plaintext = concatBytes([bytes(decipher.update(frame.subarray(COUNTER_BYTES, frame.length - TAG_BYTES))), bytes(decipher.final())]);
    } catch {
      throw new CryptoError('decrypt', 'frame failed authentication');
    }
    this.received.mark(counter);
    return plaintext;
  }
}

const EMPTY = new Uint8Array(0);

/** What a hello's signature covers: the sender, the intended receiver, the key and the nonce. */
function transcript(senderId: string, receiverId: string, head: Uint8Array): Uint8Array {
  return concatBytes([utf8(`sf-session-hello-v1\n${senderId}\n${receiverId}\n`), head]);
}

function counterBytes(counter: number): Uint8Array {
  const out = new Uint8Array(COUNTER_BYTES);
  new DataView(out.buffer).setBigUint64(0, BigInt(counter));
  return out;
}

function nonceOf(counter: number): Uint8Array {
  const out = new Uint8Array(12);
  out.set(counterBytes(counter), 4);
  return out;
}
