/**
 * The first byte of everything one device sends another, by the way it travels
 * (docs/PROTOCOL.md R5, R6). Each way has its own numbering: `3` is typing on a channel but a
 * space note in the mailbox. A new kind goes here, in the doc, and in the receiver's dispatch.
 */

/** A relay payload between two devices (PROTOCOL.md R5): the channel's own handshake, or a sealed frame. */
export const RelayKind = {
  Hello: 0,
  /** One frame of the secure session; its plaintext starts with a `ChannelKind`. */
  Sealed: 1,
  /** A hello sent in answer to a peer's hello: it never makes the receiver start over. */
  ReplyHello: 2,
} as const;

/** A message on a live end-to-end encrypted channel, opened (PROTOCOL.md §11, R5). */
export const ChannelKind = {
  /** 16-byte space id, then one replica frame. */
  Sync: 1,
  /** A user is typing in a conversation: UTF-8 JSON `{conversation}`. Live only, never mailed. */
  Typing: 3,
  /** A co-editing notice (coedit-notice.ts, docs/COEDIT.md §3). Live only, never mailed. */
  Coedit: 4,
  /** Where the sender accepts direct links (PROTOCOL.md R8): UTF-8 JSON `{"addresses":["ip:port",...]}`. Live only. */
  Direct: 5,
} as const;

/** A mailbox payload, once its sealed box is opened (PROTOCOL.md R6). */
export const MailKind = {
  /** A space's changes for an offline member device (mail-sync.ts). */
  Sync: 1,
  /** A chat message (chat.ts). */
  Chat: 2,
  /** What the sharer called a space's folder (space-note.ts). */
  SpaceNote: 3,
} as const;
