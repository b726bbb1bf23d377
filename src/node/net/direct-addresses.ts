import { ChannelKind } from './payload-kind';

/** Addresses one device tells another, at most (PROTOCOL.md R8). */
export const MAX_ANNOUNCED_ADDRESSES = 16;
const ADDRESS = /^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/;

/** The channel message (kind 5) saying where this device accepts direct links. */
export function encodeDirectAddresses(addresses: readonly string[]): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify({ addresses: addresses.slice(0, MAX_ANNOUNCED_ADDRESSES) }));
  const out = new Uint8Array(1 + body.length);
  out[0] = ChannelKind.Direct;
  out.set(body, 1);
  return out;
}

/** The addresses of a kind-5 body (after its kind byte); undefined unless it is exactly `{"addresses":[...]}` of "ip:port" strings. */
export function decodeDirectAddresses(body: Uint8Array): string[] | undefined {
  if (body.length > 4096) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return undefined;
  }
  const list = (value as { addresses?: unknown } | null)?.addresses;
  if (!Array.isArray(list) || list.length > MAX_ANNOUNCED_ADDRESSES) return undefined;
  if (!list.every((a): a is string => typeof a === 'string' && ADDRESS.test(a))) return undefined;
  return list;
}
