import * as fc from 'fast-check';
import {
  decodeDeferred,
  decodeNeeded,
  decodeStateRecord,
  encodeDeferred,
  encodeNeeded,
  encodeStateRecord,
  keyOf,
  STATE_FORMAT,
} from '../../../src/node/disk/state/state-codec';
import { decodeFrame, encodeFrame } from '../../../src/node/disk/state/state-journal';
import { DecodeError } from '../../../src/sync/protocol/wire';
import { sameBytes, violation, type FuzzTarget } from '../fuzz-target';
import { fuzzBytes } from '../mutate';
import { recordArb } from '../replica-arbitraries';

/** The frame header (length, CRC-32) is checked before decodeFrame sees a payload; the fuzzer starts after it. */
const FRAME_HEADER = 8;

const name = fc.string({ unit: 'binary', maxLength: 12 });
const stateRecord = fc.tuple(recordArb(fc.nat()), fc.nat()).map(([r, inode]) => ({ ...r, inode }));

const validPayload = fc
  .record({
    meta: fc.option(
      fc.record({
        indexId: name,
        sequence: fc.nat(),
        counter: fc.nat(),
        paused: fc.boolean(),
        rootId: fc.option(name, { nil: undefined }),
      }),
      { nil: undefined },
    ),
    records: fc.array(stateRecord, { maxLength: 2 }),
    needed: fc.array(fc.record({ path: name, onDisk: fc.option(stateRecord, { nil: undefined }) }), { maxLength: 1 }),
    deferred: fc.array(fc.record({ path: name, records: fc.array(stateRecord, { maxLength: 2 }) }), { maxLength: 1 }),
    removed: fc.array(name, { maxLength: 2 }),
    peers: fc.array(fc.record({ peer: name, indexId: name, sequence: fc.nat() }), { maxLength: 2 }),
  })
  .map(({ meta, records, needed, deferred, removed, peers }) => {
    const rootless = meta && (meta.rootId === undefined || meta.rootId === '') ? (({ rootId: _, ...m }) => m)(meta) : meta;
    const frame = encodeFrame(
      rootless,
      {
        records: { set: records.map(encodeStateRecord), remove: removed },
        needed: { set: needed.map((n) => encodeNeeded(n.onDisk ? n : { path: n.path })), remove: [] },
        deferred: { set: deferred.map(encodeDeferred), remove: removed },
      },
      peers,
    );
    return frame.subarray(FRAME_HEADER);
  });

const isStateFormatError = (err: unknown): boolean => err instanceof Error && /^state format \d+ is not known/.test(err.message);

export const stateJournal: FuzzTarget<Uint8Array> = {
  name: 'state-journal',
  covers:
    'src/node/disk/state/state-journal.ts decodeFrame (a frame payload past its CRC) and state-codec.ts decodeStateRecord, decodeNeeded, decodeDeferred, keyOf on every entry, as load() does',
  allowed: 'DecodeError; Error "state format N is not known" (both become StateCorruptError naming the file)',
  input: fuzzBytes(validPayload),
  size: (payload) => payload.length,
  isAllowed: (err) => (err instanceof DecodeError && !err.message.startsWith('badValue: malformed input')) || isStateFormatError(err),
  run(payload) {
    const { meta, sections, peers } = decodeFrame(payload);
    // One encoding per state: what decodes is written back as the very same bytes (an older format is written anew).
    if (payload[0] === STATE_FORMAT && !sameBytes(encodeFrame(meta, sections, peers).subarray(FRAME_HEADER), payload))
      violation('a frame does not re-encode to the same bytes');
    for (const bytes of sections.records.set) {
      keyOf(bytes);
      const record = decodeStateRecord(bytes);
      if (!sameBytes(encodeStateRecord(record), bytes)) violation('a state record does not re-encode to the same bytes');
    }
    for (const bytes of sections.needed.set) {
      if (!sameBytes(encodeNeeded(decodeNeeded(bytes)), bytes)) violation('a needed entry does not re-encode to the same bytes');
    }
    for (const bytes of sections.deferred.set) {
      if (!sameBytes(encodeDeferred(decodeDeferred(bytes)), bytes)) violation('a deferred entry does not re-encode to the same bytes');
    }
  },
};
