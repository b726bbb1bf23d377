import type * as net from 'node:net';

/** A line longer than this on the control socket (a request, or an event a client left unread) closes it. */
export const MAX_LINE = 16 * 1024 * 1024;

/**
 * Splits a stream of text into lines. The part of a line still coming is kept as a list of
 * chunks, not one growing string: searching a string built by appending copies it each time, so
 * a long line sent in small chunks would cost quadratic time.
 */
export function lineReader(maxLine: number, onLine: (line: string) => void, onTooLong: () => void): (chunk: string) => void {
  let parts: string[] = [];
  let length = 0;
  let stopped = false;
  return (chunk) => {
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0 && !stopped; nl = chunk.indexOf('\n', from)) {
      const line = parts.length === 0 ? chunk.slice(from, nl) : parts.join('') + chunk.slice(from, nl);
      parts = [];
      length = 0;
      from = nl + 1;
      if (line.length > maxLine) return tooLong();
      onLine(line);
    }
    if (stopped || from === chunk.length) return;
    parts.push(chunk.slice(from));
    length += chunk.length - from;
    if (length > maxLine) tooLong();
  };
  function tooLong(): void {
    stopped = true;
    parts = [];
    onTooLong();
  }
}

/**
 * The control socket's framing, for both ends: each non-blank line of `socket` goes to `onLine`
 * until the socket is destroyed; a line over MAX_LINE, or an error, destroys it.
 */
export function readLines(socket: net.Socket, onLine: (line: string) => void): void {
  socket.setEncoding('utf8');
  socket.on(
    'data',
    lineReader(
      MAX_LINE,
      (line) => {
        if (!socket.destroyed && line.trim() !== '') onLine(line);
      },
      () => socket.destroy(),
    ),
  );
  socket.on('error', () => socket.destroy());
}
