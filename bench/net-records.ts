import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';

/** A replica of `records` file records opened from its state: bench/disk-records.ts in a process of its own. */
export interface RecordsFigures {
  readonly openSeconds: number;
  readonly peakMiB: number;
  readonly line: string;
}

export async function replicaRecords(records: number): Promise<RecordsFigures> {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-bench-records-'));
  try {
    const script = nodePath.resolve(__dirname, 'disk-records.js');
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--expose-gc', script, '--records', String(records), '--dir', dir],
        { timeout: 1_800_000, maxBuffer: 16 * 1024 * 1024 },
        (err, out, stderr) => (err ? reject(new Error(`disk-records failed: ${stderr || err.message}`)) : resolve(out)),
      );
    });
    const line = stdout.trim().split('\n').pop() ?? '';
    const open = /replica opened in ([\d.]+) s/.exec(line);
    const peak = /peak RSS (\d+) MiB/.exec(line);
    if (!open || !peak) throw new Error(`disk-records printed something unexpected: ${line}`);
    // A replica that set the written state aside would be measured empty: no figure at all is better.
    const held = Number(/^([\d,]+) records/.exec(line)?.[1]?.replace(/,/g, '') ?? NaN);
    if (held !== records) throw new Error(`the replica opened holding ${held} records, not the ${records} written: ${line}`);
    return { openSeconds: Number(open[1]), peakMiB: Number(peak[1]), line };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
