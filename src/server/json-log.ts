/**
 * Structured logs, one JSON object per line. Only routing metadata is ever logged (ids, sizes,
 * codes): never names of files or folders, never payloads.
 */
export type JsonLog = (event: string, fields?: Readonly<Record<string, string | number | boolean | undefined>>) => void;

export function jsonLog(write: (line: string) => void = (line) => process.stdout.write(line + '\n')): JsonLog {
  return (event, fields = {}) => write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
}
