import type { Socket } from 'node:net';

/**
 * Counts the raw bytes a connection sends until it has signed in, and calls `exceeded` once they
 * pass `limit`. ws buffers a whole message before it emits it, up to the server-wide frame limit;
 * counting below it stops an unauthenticated 16 MiB frame after `limit` bytes and one read.
 */
export function limitBytesBeforeSignIn(socket: Socket, limit: number, signedIn: () => boolean, exceeded: () => void): void {
  let seen = 0;
  const onData = (chunk: Buffer): void => {
    if (signedIn()) {
      socket.off('data', onData);
      return;
    }
    seen += chunk.length;
    if (seen <= limit) return;
    socket.off('data', onData);
    exceeded();
  };
  socket.on('data', onData);
}
