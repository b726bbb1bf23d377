export interface Hasher {
  sha256(data: Uint8Array): Uint8Array;
}
