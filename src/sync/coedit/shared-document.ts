import * as Y from 'yjs';
import { detectEol, normaliseEol, type Eol } from './eol';
import { fnv1a32 } from './string-hash';

/**
 * The layout of one file's Yjs document, the same on every device:
 * - `text` (Y.Text): the content with `\n` line breaks;
 * - `meta` (Y.Map): `eol` (`"\n"` or `"\r\n"`), the line break every editor shows and saves, and
 *   `layout`, this layout's version.
 */
export const TEXT_NAME = 'text';
export const META_NAME = 'meta';
export const LAYOUT_VERSION = 1;

export function sharedText(doc: Y.Doc): Y.Text {
  return doc.getText(TEXT_NAME);
}

/** The document's line break; `\n` until the seed arrived. */
export function sharedEol(doc: Y.Doc): Eol {
  return doc.getMap(META_NAME).get('eol') === '\r\n' ? '\r\n' : '\n';
}

/**
 * The first state of a file's document, made from the file's content as replication left it.
 * Every device that opens the file builds it on its own, and gets the same bytes: a fixed client
 * id derived from the content and one transaction. Yjs then sees the seeds of all devices as one
 * and the same change, so the text is never doubled, although nobody waited for anybody to create
 * it. That only holds for equal content, which is why a session is keyed by the seed's hash: the
 * caller must only join devices that seeded from the same version of the file.
 */
export function seedUpdate(content: string): Uint8Array {
  const doc = new Y.Doc({ gc: true });
  const text = normaliseEol(content);
  doc.clientID = seedClientId(text);
  doc.transact(() => {
    const meta = doc.getMap(META_NAME);
    meta.set('layout', LAYOUT_VERSION);
    meta.set('eol', detectEol(content));
    sharedText(doc).insert(0, text);
  });
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

/** The seed's author: a name for "the file as it was", not a device. */
export function seedClientId(normalisedContent: string): number {
  return fnv1a32('shared-folders seed\n' + normalisedContent);
}
