import { fnv1a32 } from './string-hash';

/**
 * Cursor colours: saturated enough to read as a caret on light and dark themes, far enough apart
 * that two members rarely look alike.
 */
const PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#9a6324',
  '#469990',
  '#808000',
  '#000075',
  '#e6a100',
] as const;

/** A member's colour, the same on every device and in every session, from their user id alone. */
export function colourFor(userId: string): string {
  return PALETTE[fnv1a32(userId) % PALETTE.length]!;
}
