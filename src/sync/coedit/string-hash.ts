/**
 * 32-bit FNV-1a over UTF-16 units: cheap, stable across runtimes and machines. For names that
 * must come out the same everywhere (a colour, a seed's client id), never for security.
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
