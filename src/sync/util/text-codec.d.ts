// The engine compiles without DOM or Node types; these two globals exist in every JavaScript
// runtime the engine targets (Node, browsers, VS Code's extension host).
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(input: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
