import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import fc from 'fast-check';
import {
  CryptoError,
  decodeDeviceKeys,
  deviceIdOf,
  deviceKeysFromSeeds,
  encodeDeviceKeys,
  fingerprintOf,
  generateDeviceKeys,
  signWith,
  verifySignature,
  type DeviceKeys,
} from '../../../../src/node/crypto/device-keys';
import { SecureSession } from '../../../../src/node/crypto/secure-session';
import { openSealed, sealedBoxId, sealFor } from '../../../../src/node/crypto/sealed-box';

type Code = CryptoError['code'];

const HELLO_BYTES = 113;
const FRAME_OVERHEAD = 8 + 16;
const SEALED_OVERHEAD = 1 + 32 + 12 + 16 + 64;

// Helpers below re-derive the documented protocol straight from node:crypto, so the tests check
// the wire format itself rather than the implementation agreeing with itself.

function u8(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function sha256(...parts: (Uint8Array | string)[]): Uint8Array {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return u8(h.digest());
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function cat(...parts: Uint8Array[]): Uint8Array {
  return u8(Buffer.concat(parts));
}

/** A reproducible byte stream: SHA-256(label || block index), for injecting as `random`. */
function seededRandom(label: string): (n: number) => Uint8Array {
  let block = 0;
  let pool: Uint8Array = new Uint8Array(0);
  return (n) => {
    while (pool.length < n) pool = cat(pool, sha256(`${label}/${block++}`));
    const out = pool.slice(0, n);
    pool = pool.slice(n);
    return out;
  };
}

function keysFrom(label: string): DeviceKeys {
  return deviceKeysFromSeeds(sha256(`${label}/sign`), sha256(`${label}/agree`));
}

function x25519(secret: Uint8Array, publicRaw: Uint8Array): Uint8Array {
  const privateKey = crypto.createPrivateKey({
    key: Buffer.from(cat(u8(Buffer.from('302e020100300506032b656e04220420', 'hex')), secret)),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = crypto.createPublicKey({
    key: Buffer.from(cat(u8(Buffer.from('302a300506032b656e032100', 'hex')), publicRaw)),
    format: 'der',
    type: 'spki',
  });
  return u8(crypto.diffieHellman({ privateKey, publicKey }));
}

function x25519Public(secret: Uint8Array): Uint8Array {
  const privateKey = crypto.createPrivateKey({
    key: Buffer.from(cat(u8(Buffer.from('302e020100300506032b656e04220420', 'hex')), secret)),
    format: 'der',
    type: 'pkcs8',
  });
  return u8(Buffer.from(crypto.createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url'));
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length: number): Uint8Array {
  return new Uint8Array(crypto.hkdfSync('sha256', ikm, salt, info, length));
}

function chachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  const d = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  d.setAAD(aad, { plaintextLength: sealed.length - 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return cat(u8(d.update(sealed.subarray(0, sealed.length - 16))), u8(d.final()));
}

function throwsCode(fn: () => unknown, code: Code): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CryptoError, `expected a CryptoError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at]! ^= 0x01;
  return copy;
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

interface Device {
  keys: DeviceKeys;
  id: string;
}

function device(label: string): Device {
  const keys = keysFrom(label);
  return { keys, id: deviceIdOf(keys) };
}

/** Both sides start, then each accepts the other's hello: the symmetric handshake. */
function pair(a: Device, b: Device): { ab: SecureSession; ba: SecureSession } {
  const A = SecureSession.start(a.keys, a.id, b.keys, b.id);
  const B = SecureSession.start(b.keys, b.id, a.keys, a.id);
  A.session.accept(B.hello);
  B.session.accept(A.hello);
  return { ab: A.session, ba: B.session };
}

const alice = device('alice');
const bob = device('bob');
const carol = device('carol');

// ---------------------------------------------------------------------------------------------
// Device keys

test('deviceKeysFromSeeds is deterministic and its raw public keys match what Node exports as JWK', () => {
  const signSeed = sha256('sign');
  const agreeSeed = sha256('agree');
  const k = deviceKeysFromSeeds(signSeed, agreeSeed);
  assert.deepEqual(deviceKeysFromSeeds(signSeed, agreeSeed), k);
  for (const field of [k.signPublic, k.signSecret, k.agreePublic, k.agreeSecret]) assert.equal(field.length, 32);
  assert.deepEqual(k.signSecret, signSeed);
  assert.deepEqual(k.agreeSecret, agreeSeed);

  // JWK is an independent route to the raw keys (the implementation slices DER).
  const signJwk = crypto.createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(signSeed).toString('base64url'), x: Buffer.from(k.signPublic).toString('base64url') },
    format: 'jwk',
  });
  assert.equal(crypto.createPublicKey(signJwk).export({ format: 'jwk' }).x, Buffer.from(k.signPublic).toString('base64url'));
  const ed = crypto.generateKeyPairSync('ed25519');
  const edSeed = Buffer.from(ed.privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const edPublic = Buffer.from(ed.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  assert.deepEqual(deviceKeysFromSeeds(u8(edSeed), agreeSeed).signPublic, u8(edPublic));
  const x = crypto.generateKeyPairSync('x25519');
  const xSecret = Buffer.from(x.privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const xPublic = Buffer.from(x.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  assert.deepEqual(deviceKeysFromSeeds(signSeed, u8(xSecret)).agreePublic, u8(xPublic));
});

test('deviceKeysFromSeeds refuses seeds that are not 32 bytes', () => {
  throwsCode(() => deviceKeysFromSeeds(new Uint8Array(31), new Uint8Array(32)), 'badKey');
  throwsCode(() => deviceKeysFromSeeds(new Uint8Array(32), new Uint8Array(33)), 'badKey');
});

test('generateDeviceKeys gives fresh, well-formed, usable keys', () => {
  const a = generateDeviceKeys();
  const b = generateDeviceKeys();
  for (const field of [a.signPublic, a.signSecret, a.agreePublic, a.agreeSecret]) {
    assert.ok(field instanceof Uint8Array);
    assert.equal(field.length, 32);
  }
  assert.notDeepEqual(a.signSecret, b.signSecret);
  assert.notDeepEqual(a.agreeSecret, b.agreeSecret);
  assert.deepEqual(deviceKeysFromSeeds(a.signSecret, a.agreeSecret), a);
  assert.ok(verifySignature(a.signPublic, text('x'), signWith(a, text('x'))));
});

test('encoded keys round-trip and are versioned base64url JSON', () => {
  const k = generateDeviceKeys();
  const encoded = encodeDeviceKeys(k);
  assert.deepEqual(decodeDeviceKeys(encoded), k);
  const parsed = JSON.parse(encoded) as Record<string, unknown>;
  assert.equal(parsed.v, 1);
  for (const [name, value] of Object.entries(parsed)) if (name !== 'v') assert.match(String(value), /^[A-Za-z0-9_-]{43}$/, name);
});

test('decoding garbage keys throws a CryptoError', () => {
  const seed = Buffer.alloc(32, 7).toString('base64url');
  const cases: [string, Code][] = [
    ['', 'malformed'],
    ['not json', 'malformed'],
    ['[]', 'malformed'],
    ['"keys"', 'malformed'],
    ['42', 'malformed'],
    ['{}', 'malformed'],
    [JSON.stringify({ v: 2, signSecret: seed, agreeSecret: seed }), 'malformed'],
    [JSON.stringify({ v: 1, signSecret: seed }), 'malformed'],
    [JSON.stringify({ v: 1, signSecret: 5, agreeSecret: seed }), 'malformed'],
    [JSON.stringify({ v: 1, signSecret: seed.slice(0, 20), agreeSecret: seed }), 'badKey'],
    [JSON.stringify({ v: 1, signSecret: seed, agreeSecret: seed + 'AAAA' }), 'badKey'],
  ];
  for (const [input, code] of cases) throwsCode(() => decodeDeviceKeys(input), code);
});

test('decoding the JSON literal null throws a CryptoError', () => {
  throwsCode(() => decodeDeviceKeys('null'), 'malformed');
});

test('device id is the first 16 bytes of SHA-256 over the domain and both public keys, in hex', () => {
  const k = alice.keys;
  assert.equal(deviceIdOf(k), hex(sha256('sf-device-id-v1', k.signPublic, k.agreePublic).subarray(0, 16)));
  assert.match(deviceIdOf(k), /^[0-9a-f]{32}$/);
  assert.equal(deviceIdOf({ signPublic: k.signPublic, agreePublic: k.agreePublic }), deviceIdOf(k));
  assert.notEqual(deviceIdOf(k), deviceIdOf(bob.keys));
  // Either key alone changes the id: swapping in another device's agreement key is a different device.
  assert.notEqual(deviceIdOf({ signPublic: k.signPublic, agreePublic: bob.keys.agreePublic }), deviceIdOf(k));
});

function base32(b: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of b) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i + 5 <= bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

test('fingerprint is 16 RFC 4648 base32 characters of the domain-separated hash, in four groups', () => {
  const k = alice.keys;
  const fp = fingerprintOf(k);
  assert.match(fp, /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
  assert.equal(fp, fingerprintOf({ signPublic: k.signPublic, agreePublic: k.agreePublic }));
  // 16 characters carry 80 bits: the first 10 bytes of the digest.
  const expected = base32(sha256('sf-fingerprint-v1', k.signPublic, k.agreePublic).subarray(0, 10));
  assert.equal(fp.replaceAll('-', ''), expected);
  assert.notEqual(fingerprintOf(bob.keys), fp);
  assert.equal(base32(text('fooba')), 'MZXW6YTB', 'the test encoder follows RFC 4648 section 10');
});

test('signatures verify, and verification is false (never a throw) on anything wrong', () => {
  const data = text('membership v3');
  const sig = signWith(alice.keys, data);
  assert.equal(sig.length, 64);
  assert.deepEqual(signWith(alice.keys, data), sig, 'Ed25519 is deterministic');
  assert.ok(verifySignature(alice.keys.signPublic, data, sig));
  assert.ok(
    crypto.verify(
      null,
      data,
      crypto.createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(alice.keys.signPublic).toString('base64url') },
        format: 'jwk',
      }),
      sig,
    ),
  );

  assert.equal(verifySignature(alice.keys.signPublic, text('membership v4'), sig), false);
  assert.equal(verifySignature(bob.keys.signPublic, data, sig), false);
  assert.equal(verifySignature(alice.keys.signPublic, data, flip(sig, 10)), false);
  assert.equal(verifySignature(alice.keys.signPublic, data, flip(sig, 60)), false);
  for (const badSig of [
    new Uint8Array(0),
    sig.subarray(0, 63),
    cat(sig, new Uint8Array(1)),
    new Uint8Array(64),
    new Uint8Array(64).fill(0xff),
  ]) {
    assert.equal(verifySignature(alice.keys.signPublic, data, badSig), false);
  }
  for (const badKey of [new Uint8Array(0), alice.keys.signPublic.subarray(0, 31), new Uint8Array(32), new Uint8Array(32).fill(0xff)]) {
    assert.equal(verifySignature(badKey, data, sig), false);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), (key, d, s) => {
      assert.equal(typeof verifySignature(key, d, s), 'boolean');
    }),
    { numRuns: 300 },
  );
});

test('a public key with trailing bytes does not verify', () => {
  const data = text('membership v3');
  const sig = signWith(alice.keys, data);
  assert.equal(verifySignature(cat(alice.keys.signPublic, new Uint8Array([7])), data, sig), false);
});

// ---------------------------------------------------------------------------------------------
// Secure session

test('hello layout: version, ephemeral public, nonce, signature over sender, receiver and head', () => {
  const random = seededRandom('alice-session');
  const ephemeralSecret = seededRandom('alice-session')(32);
  const { hello } = SecureSession.start(alice.keys, alice.id, bob.keys, bob.id, random);
  assert.equal(hello.length, HELLO_BYTES);
  assert.equal(hello[0], 1);
  assert.deepEqual(hello.subarray(1, 33), x25519Public(ephemeralSecret));
  assert.deepEqual(hello.subarray(33, 49), seededRandom('alice-session')(48).subarray(32));
  const transcript = cat(text(`sf-session-hello-v1\n${alice.id}\n${bob.id}\n`), hello.subarray(0, 49));
  assert.ok(verifySignature(alice.keys.signPublic, transcript, hello.subarray(49)));
});

/**
 * Frozen wire bytes (candidates for docs/PROTOCOL.md). Keys: signSeed = SHA-256("<name>/sign"),
 * agreeSeed = SHA-256("<name>/agree"); randomness: seededRandom("alice-session") and ("bob-session").
 * A change here breaks every deployed peer, so it needs a new version byte, not a new vector.
 */
const GOLDEN = {
  aliceId: '888847060ed7866988f77f11fc45ddce',
  bobId: '6c02e069e5287af2cad3a08829d3fa50',
  aliceFingerprint: '55CG-GPOW-6TVR-Q4P7',
  aliceHello:
    '011eb5f9154dd11fc2295b6537315ab64b565243b567713e6b731f9e3db728c26ca0ab1c24b071b49e938ed13f70fb997f3752fb61683ae687f2b0bbf2bd20acfab0106e488629881d811b6a25e80cf5768ab10dbc8756bcc2c9e689600963f93c9f827c22c93daf2c71383c51bfe19407',
  bobHello:
    '014a9cc2a74233cfc2153388f6a36ca112e0e486a3fbd4a5dec2e927c046f0bd3f1104272acc49ad049801760629913440aa66bd3b3223f0a061713cfea6934938338224087754c61a46d51943e53cee2ad957887e94176a605125320fb4f4e05e60e10ee02920d8d89443a79a41924d04',
  /** Alice's first frame to Bob: plaintext "hello bob", aad "space-1". */
  aliceFirstFrame: '00000000000000004165586b875f1b589fa5d027471b40615805f4c3b6c6a43f56',
  /** Alice to Bob, plaintext "index records for bob", randomness seededRandom("box"). */
  box: '010fca5b84df74e9db986151f0055f27cbe80b8d2744304772fcc1c75bff3eb14b822cef384a8b0d9bbb8e5cbcb1848d8de93bf4f40d5eb1c1017c9c98fde76f14eab82981bad2824d7a37d457277391a1a2aae5a0410eb53d76a4e6ae3246ddc03795f10d2c09045e7b77929a64f02d14dcd2af254e72a49d9a8a6f5116cbe7daf1b4400853b1f32569d30b2fdb9231140e',
};

test('golden vector: fixed keys and randomness give fixed hellos, and both sides derive the documented keys', () => {
  const A = SecureSession.start(alice.keys, alice.id, bob.keys, bob.id, seededRandom('alice-session'));
  const B = SecureSession.start(bob.keys, bob.id, alice.keys, alice.id, seededRandom('bob-session'));
  assert.equal(A.hello.length, HELLO_BYTES);
  assert.equal(B.hello.length, HELLO_BYTES);
  assert.deepEqual(
    SecureSession.start(alice.keys, alice.id, bob.keys, bob.id, seededRandom('alice-session')).hello,
    A.hello,
    'same inputs, same hello',
  );
  assert.equal(alice.id, GOLDEN.aliceId);
  assert.equal(bob.id, GOLDEN.bobId);
  assert.equal(fingerprintOf(alice.keys), GOLDEN.aliceFingerprint);
  assert.equal(hex(A.hello), GOLDEN.aliceHello);
  assert.equal(hex(B.hello), GOLDEN.bobHello);

  A.session.accept(B.hello);
  B.session.accept(A.hello);
  assert.ok(A.session.ready && B.session.ready);

  // Re-derive the direction keys from the documented recipe.
  const ephA = seededRandom('alice-session')(32);
  const ikm = cat(x25519(ephA, B.hello.subarray(1, 33)), x25519(alice.keys.agreeSecret, bob.keys.agreePublic));
  const [first, second] = Buffer.compare(A.hello, B.hello) < 0 ? [A.hello, B.hello] : [B.hello, A.hello];
  const salt = sha256(first, second);
  const [low, high] = [alice.id, bob.id].sort();
  const okm = hkdf(ikm, salt, `sf-session-v1${low}${high}`, 64);
  const aliceSends = alice.id === low ? okm.subarray(0, 32) : okm.subarray(32);
  const bobSends = alice.id === low ? okm.subarray(32) : okm.subarray(0, 32);

  const plaintext = text('hello bob');
  const aad = text('space-1');
  const frame = A.session.seal(plaintext, aad);
  assert.equal(frame.length, FRAME_OVERHEAD + plaintext.length);
  assert.equal(hex(frame.subarray(0, 8)), '0000000000000000');
  const nonce = cat(new Uint8Array(4), frame.subarray(0, 8));
  assert.deepEqual(chachaOpen(aliceSends, nonce, frame.subarray(8), cat(frame.subarray(0, 8), aad)), plaintext);
  assert.equal(hex(frame), GOLDEN.aliceFirstFrame);
  assert.deepEqual(B.session.open(frame, aad), plaintext);

  const reply = B.session.seal(text('hi alice'));
  assert.deepEqual(
    chachaOpen(bobSends, cat(new Uint8Array(4), reply.subarray(0, 8)), reply.subarray(8), reply.subarray(0, 8)),
    text('hi alice'),
  );
  assert.deepEqual(A.session.open(reply), text('hi alice'));
});

test('simultaneous symmetric handshake: hellos cross, either side accepts first, both directions work', () => {
  const A = SecureSession.start(alice.keys, alice.id, bob.keys, bob.id);
  const B = SecureSession.start(bob.keys, bob.id, alice.keys, alice.id);
  assert.equal(A.session.ready, false);
  // Alice accepts and talks before Bob has even seen her hello.
  A.session.accept(B.hello);
  assert.equal(A.session.ready, true);
  assert.equal(B.session.ready, false);
  const early = A.session.seal(text('early'));
  B.session.accept(A.hello);
  assert.deepEqual(B.session.open(early), text('early'));
  assert.deepEqual(A.session.open(B.session.seal(text('back'))), text('back'));
});

test('a session refuses to seal or open before accept, and refuses a device talking to itself', () => {
  const { session } = SecureSession.start(alice.keys, alice.id, bob.keys, bob.id);
  assert.throws(() => session.seal(text('x')), CryptoError);
  assert.throws(() => session.open(new Uint8Array(40)), CryptoError);
  throwsCode(() => SecureSession.start(alice.keys, alice.id, alice.keys, alice.id), 'badKey');
});

test('a hello signed by a key other than the one in the directory is refused', () => {
  // Bob's directory entry says "alice" but the hello comes from carol's keys.
  const fromCarol = SecureSession.start(carol.keys, alice.id, bob.keys, bob.id);
  const atBob = SecureSession.start(bob.keys, bob.id, alice.keys, alice.id);
  throwsCode(() => atBob.session.accept(fromCarol.hello), 'badSignature');
  // And Alice's real hello is refused by a Bob who holds the wrong keys for her.
  const misinformed = SecureSession.start(bob.keys, bob.id, carol.keys, alice.id);
  const real = SecureSession.start(alice.keys, alice.id, bob.keys, bob.id);
  throwsCode(() => misinformed.session.accept(real.hello), 'badSignature');
  assert.equal(misinformed.session.ready, false);
});

test('a hello addressed to another device, or reflected back, is refused', () => {
  const toCarol = SecureSession.start(alice.keys, alice.id, carol.keys, carol.id);
  const atBob = SecureSession.start(bob.keys, bob.id, alice.keys, alice.id);
  throwsCode(() => atBob.session.accept(toCarol.hello), 'badSignature');
  throwsCode(() => atBob.session.accept(atBob.hello), 'badSignature');
});

test('a tampered, truncated, extended or wrong-version hello is refused', () => {
  const A = SecureSession.start(alice.keys, alice.id, bob.keys, bob.id);
  const atBob = () => SecureSession.start(bob.keys, bob.id, alice.keys, alice.id).session;
  for (const at of [1, 20, 32, 33, 48, 49, 100, 112]) throwsCode(() => atBob().accept(flip(A.hello, at)), 'badSignature');
  throwsCode(() => atBob().accept(flip(A.hello, 0)), 'malformed');
  throwsCode(() => atBob().accept(A.hello.subarray(0, HELLO_BYTES - 1)), 'malformed');
  throwsCode(() => atBob().accept(cat(A.hello, new Uint8Array(1))), 'malformed');
  throwsCode(() => atBob().accept(new Uint8Array(0)), 'malformed');
  const bob2 = atBob();
  assert.throws(() => bob2.accept(flip(A.hello, 5)));
  assert.equal(bob2.ready, false, 'a refused hello leaves the session unusable, not half-keyed');
  bob2.accept(A.hello);
  assert.equal(bob2.ready, true);
});

test('frames: counter header, tampering, truncation and wrong aad are refused with the right code', () => {
  const { ab, ba } = pair(alice, bob);
  const aad = text('space-1');
  const frames = [0, 1, 2].map((i) => ab.seal(text(`message ${i}`), aad));
  frames.forEach((f, i) => assert.equal(hex(f.subarray(0, 8)), i.toString(16).padStart(16, '0')));

  const f = frames[0]!;
  throwsCode(() => ba.open(flip(f, 8), aad), 'decrypt'); // ciphertext
  throwsCode(() => ba.open(flip(f, f.length - 1), aad), 'decrypt'); // tag
  throwsCode(() => ba.open(f, text('space-2')), 'decrypt');
  throwsCode(() => ba.open(f), 'decrypt');
  throwsCode(() => ba.open(f.subarray(0, f.length - 1), aad), 'decrypt');
  throwsCode(() => ba.open(f.subarray(0, FRAME_OVERHEAD - 1), aad), 'malformed');
  throwsCode(() => ba.open(new Uint8Array(0), aad), 'malformed');
  // A counter moved to one not yet seen: authenticated in the AAD and the nonce.
  const moved = f.slice();
  moved[7] = 9;
  throwsCode(() => ba.open(moved, aad), 'decrypt');
  const huge = f.slice();
  huge[0] = 0xff;
  throwsCode(() => ba.open(huge, aad), 'malformed');

  // Failed attempts do not burn the counter: the genuine frames still open, once.
  frames.forEach((fr, i) => assert.deepEqual(ba.open(fr, aad), text(`message ${i}`)));
  throwsCode(() => ba.open(f, aad), 'replay');
});

test('a frame cannot be opened by its own sender, by a third device, or by a later session', () => {
  const { ab, ba } = pair(alice, bob);
  const frame = ab.seal(text('x'));
  throwsCode(() => ab.open(frame), 'decrypt');
  const { ba: ca } = pair(alice, carol);
  throwsCode(() => ca.open(frame), 'decrypt');
  const next = pair(alice, bob);
  throwsCode(() => next.ba.open(frame), 'decrypt');
  assert.deepEqual(ba.open(frame), text('x'));
});

test('replay of an old frame throws replay', () => {
  const { ab, ba } = pair(alice, bob);
  const f0 = ab.seal(text('a'));
  const f1 = ab.seal(text('b'));
  assert.deepEqual(ba.open(f0), text('a'));
  throwsCode(() => ba.open(f0), 'replay');
  assert.deepEqual(ba.open(f1), text('b'));
  throwsCode(() => ba.open(f0), 'replay');
  throwsCode(() => ba.open(f1), 'replay');
});

test('out-of-order delivery within the window is accepted exactly once', () => {
  const { ab, ba } = pair(alice, bob);
  const frames = Array.from({ length: 40 }, (_, i) => ab.seal(text(String(i))));
  const order = [...frames.keys()].sort((x, y) => ((x * 17 + 5) % 41) - ((y * 17 + 5) % 41));
  assert.notDeepEqual(order, [...frames.keys()]);
  for (const i of order) assert.deepEqual(ba.open(frames[i]!), text(String(i)));
  for (const i of order) throwsCode(() => ba.open(frames[i]!), 'replay');
});

test('the window is 4096 counters: 4095 behind is accepted, 4096 and more behind are refused, gaps stay open', () => {
  const { ab, ba } = pair(alice, bob);
  const frames = Array.from({ length: 5001 }, (_, i) => ab.seal(text(String(i))));
  assert.deepEqual(ba.open(frames[5000]!), text('5000'));
  throwsCode(() => ba.open(frames[0]!), 'replay'); // 5000 behind
  throwsCode(() => ba.open(frames[904]!), 'replay'); // 4096 behind
  assert.deepEqual(ba.open(frames[905]!), text('905')); // 4095 behind
  throwsCode(() => ba.open(frames[905]!), 'replay');
  assert.deepEqual(ba.open(frames[3000]!), text('3000'));
  // Frames never delivered (lost on a reconnect) block nothing that comes after them.
  const later = ab.seal(text('later'));
  assert.deepEqual(ba.open(later), text('later'));
  assert.deepEqual(ba.open(frames[1000]!), text('1000')); // 4001 behind counter 5001, never seen
  throwsCode(() => ba.open(frames[1000]!), 'replay');
});

test('a jump far ahead clears the window, and earlier unseen frames within reach still open', () => {
  const { ab, ba } = pair(alice, bob);
  const frames = Array.from({ length: 9000 }, (_, i) => ab.seal(text(String(i))));
  assert.deepEqual(ba.open(frames[1]!), text('1'));
  assert.deepEqual(ba.open(frames[8999]!), text('8999'));
  assert.deepEqual(ba.open(frames[4904]!), text('4904'));
  throwsCode(() => ba.open(frames[4903]!), 'replay');
  throwsCode(() => ba.open(frames[1]!), 'replay');
});

test('sealing stops at 2^48 messages', () => {
  const { ab } = pair(alice, bob);
  // Reaching the cap honestly would take years; set the private counter to the boundary.
  (ab as unknown as { sendCounter: number }).sendCounter = 2 ** 48 - 1;
  const last = ab.seal(text('last'));
  assert.equal(hex(last.subarray(0, 8)), (2 ** 48 - 1).toString(16).padStart(16, '0'));
  assert.throws(() => ab.seal(text('one too many')), CryptoError);
});

test('accepting a second hello on a live session never reuses a nonce', () => {
  const A = SecureSession.start(alice.keys, alice.id, bob.keys, bob.id);
  const B = SecureSession.start(bob.keys, bob.id, alice.keys, alice.id);
  A.session.accept(B.hello);
  const first = A.session.seal(text('aaaa'));
  let second: Uint8Array | undefined;
  try {
    A.session.accept(B.hello); // a duplicated hello: must be refused or ignored
    second = A.session.seal(text('bbbb'));
  } catch (err) {
    assert.ok(err instanceof CryptoError);
  }
  if (second) assert.notDeepEqual(second.subarray(0, 8), first.subarray(0, 8), 'same key, same counter: keystream reuse');
});

test('any payload up to 64 KiB round-trips in both directions', () => {
  const { ab, ba } = pair(alice, bob);
  fc.assert(
    // `size: 'max'` so the run really reaches 64 KiB, not only fast-check's small default sizes.
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 64 * 1024, size: 'max' }), fc.uint8Array({ maxLength: 100 })),
      fc.uint8Array({ maxLength: 64 }),
      (payload, aad) => {
        const there = ab.seal(payload, aad);
        assert.equal(there.length, payload.length + FRAME_OVERHEAD);
        assert.deepEqual(ba.open(there, aad), payload);
        const back = ba.seal(payload);
        assert.deepEqual(ab.open(back), payload);
      },
    ),
    { numRuns: 100 },
  );
});

// ---------------------------------------------------------------------------------------------
// Sealed box

test('sealed box round-trips and follows the documented layout and key derivation', () => {
  const plaintext = text('index records for bob');
  const box = sealFor(alice.keys, alice.id, bob.keys, bob.id, plaintext, seededRandom('box'));
  assert.equal(box.length, plaintext.length + SEALED_OVERHEAD);
  assert.equal(box[0], 1);
  assert.deepEqual(openSealed(bob.keys, bob.id, alice.keys, alice.id, box), plaintext);
  assert.deepEqual(
    sealFor(alice.keys, alice.id, bob.keys, bob.id, plaintext, seededRandom('box')),
    box,
    'deterministic given the randomness',
  );

  // Independent opening from the documented recipe.
  const ephemeralPublic = box.subarray(1, 33);
  assert.deepEqual(ephemeralPublic, x25519Public(seededRandom('box')(32)));
  const ikm = cat(x25519(bob.keys.agreeSecret, ephemeralPublic), x25519(bob.keys.agreeSecret, alice.keys.agreePublic));
  const key = hkdf(ikm, ephemeralPublic, `sf-sealed-v1${alice.id}${bob.id}`, 32);
  const body = box.subarray(0, box.length - 64);
  assert.deepEqual(chachaOpen(key, body.subarray(33, 45), body.subarray(45), body.subarray(0, 45)), plaintext);
  assert.ok(
    verifySignature(alice.keys.signPublic, cat(text(`sf-sealed-v1\n${alice.id}\n${bob.id}\n`), body), box.subarray(box.length - 64)),
  );
  assert.equal(hex(box), GOLDEN.box);

  assert.deepEqual(
    openSealed(bob.keys, bob.id, alice.keys, alice.id, sealFor(alice.keys, alice.id, bob.keys, bob.id, new Uint8Array(0))),
    new Uint8Array(0),
  );
});

test('sealed box: wrong recipient, wrong sender key or wrong ids are refused', () => {
  const box = sealFor(alice.keys, alice.id, bob.keys, bob.id, text('for bob only'));
  // Carol, with her own keys and id: the ids are bound into the signature.
  throwsCode(() => openSealed(carol.keys, carol.id, alice.keys, alice.id, box), 'badSignature');
  // Carol claiming to be Bob: the signature holds, the key agreement does not.
  throwsCode(() => openSealed(carol.keys, bob.id, alice.keys, alice.id, box), 'decrypt');
  // Bob expecting the box from Carol, or holding the wrong key for Alice.
  throwsCode(() => openSealed(bob.keys, bob.id, carol.keys, carol.id, box), 'badSignature');
  throwsCode(() => openSealed(bob.keys, bob.id, carol.keys, alice.id, box), 'badSignature');
  throwsCode(() => openSealed(bob.keys, bob.id, alice.keys, carol.id, box), 'badSignature');
  // A sender that re-signs someone else's box under its own key cannot make it decrypt as its own.
  const body = box.subarray(0, box.length - 64);
  const resigned = cat(body, signWith(carol.keys, cat(text(`sf-sealed-v1\n${carol.id}\n${bob.id}\n`), body)));
  throwsCode(() => openSealed(bob.keys, bob.id, carol.keys, carol.id, resigned), 'decrypt');
});

test('sealed box: any flipped bit, truncation or unknown version is refused', () => {
  const box = sealFor(alice.keys, alice.id, bob.keys, bob.id, text('twelve bytes'));
  const open = (b: Uint8Array) => openSealed(bob.keys, bob.id, alice.keys, alice.id, b);
  for (let at = 1; at < box.length; at++) throwsCode(() => open(flip(box, at)), 'badSignature');
  throwsCode(() => open(flip(box, 0)), 'malformed');
  throwsCode(() => open(box.subarray(0, box.length - 1)), 'badSignature');
  throwsCode(() => open(cat(box, new Uint8Array(1))), 'badSignature');
  throwsCode(() => open(box.subarray(0, SEALED_OVERHEAD - 1)), 'malformed');
  throwsCode(() => open(new Uint8Array(0)), 'malformed');
  assert.deepEqual(open(box), text('twelve bytes'));
});

test('sealedBoxId is the hex SHA-256 of the whole box: duplicates share it, fresh seals do not', () => {
  const box = sealFor(alice.keys, alice.id, bob.keys, bob.id, text('x'));
  assert.equal(sealedBoxId(box), hex(sha256(box)));
  assert.match(sealedBoxId(box), /^[0-9a-f]{64}$/);
  assert.equal(sealedBoxId(box.slice()), sealedBoxId(box));
  const again = sealFor(alice.keys, alice.id, bob.keys, bob.id, text('x'));
  assert.notEqual(sealedBoxId(again), sealedBoxId(box), 'fresh ephemeral and nonce per seal');
});
