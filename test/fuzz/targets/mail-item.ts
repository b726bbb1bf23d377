import * as fc from 'fast-check';
import { decodeMailItem } from '../../../src/node/net/mail-sync';
import { MailKind } from '../../../src/node/net/payload-kind';
import { encodeMessage } from '../../../src/sync/protocol/codec';
import { DecodeError } from '../../../src/sync/protocol/wire';
import { concatBytes, fromHex } from '../../../src/sync/util/bytes';
import { sameBytes, violation, type FuzzTarget } from '../fuzz-target';
import { fuzzBytes } from '../mutate';
import { messageArb } from '../replica-arbitraries';

/** mail-sync.ts's item: kind, 16-byte space id, then u32-length-prefixed replica frames. */
function item(space: Uint8Array, frames: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(MailKind.Sync), space];
  for (const f of frames) {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, f.length);
    parts.push(length, f);
  }
  return concatBytes(parts);
}

const validItem = fc
  .tuple(
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
    fc.array(
      messageArb.map((m) => encodeMessage(m)),
      { maxLength: 3 },
    ),
  )
  .map(([space, frames]) => item(space, frames));

const isItemError = (err: unknown): boolean => err instanceof Error && /^(not a sync item|sync item truncated)$/.test(err.message);

export const mailItem: FuzzTarget<Uint8Array> = {
  name: 'mail-item',
  covers: 'src/node/net/mail-sync.ts decodeMailItem (an opened mailbox sync item) and decodeMessage on each frame in it',
  allowed: 'DecodeError; Error "not a sync item" / "sync item truncated"',
  input: fuzzBytes(validItem),
  size: (bytes) => bytes.length,
  isAllowed: (err) => (err instanceof DecodeError && !err.message.startsWith('badValue: malformed input')) || isItemError(err),
  run(bytes) {
    const { space, messages } = decodeMailItem(bytes);
    const again = item(
      fromHex(space),
      messages.map((m) => encodeMessage(m)),
    );
    if (!sameBytes(again, bytes)) violation('a mail item does not re-encode to the same bytes');
  },
};
