/** How a device reaches a connected peer device: a direct link, or the server's relay. */
export type PeerPath = 'direct' | 'relay';

/**
 * The path a `status --json` reports to each connected peer device: every object in it naming a
 * `device` with a `path` of "direct" or "relay", by device id.
 */
export function peerPaths(status: unknown): Map<string, PeerPath> {
  const paths = new Map<string, PeerPath>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if ((o['path'] === 'direct' || o['path'] === 'relay') && typeof o['device'] === 'string') paths.set(o['device'], o['path']);
      Object.values(o).forEach(walk);
    }
  };
  walk(status);
  return paths;
}
