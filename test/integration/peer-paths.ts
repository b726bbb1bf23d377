import type { StatusJson } from './net-cluster';

/** How a device reaches a connected peer device: a direct link, or the server's relay. */
export type PeerPath = 'direct' | 'relay';

/** The path a `status --json` reports to each peer device it has a channel with, by device id. */
export function peerPaths(status: StatusJson): Map<string, PeerPath> {
  return new Map((status.peers ?? []).map((p) => [p.device, p.path]));
}
