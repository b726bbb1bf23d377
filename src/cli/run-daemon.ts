import * as fs from 'node:fs';
import type { DeviceHome } from '../node/agent/device-home';
import { writeAtomic, writeReplacing } from '../node/disk/durable-write';
import { EngineService } from '../node/engine/engine-service';
import { EngineError } from '../node/engine/engine-error';
import { UsageError } from './cli-errors';
import { printable } from '../sync/util/printable';

/** How often status.json is brought up to date: the last status, for what reads the home while no daemon runs. */
const STATUS_EVERY_MS = 500;

/**
 * `shared-folders run`: the same engine service as the extension's engine host, so both claim
 * the home the same way and the CLI's other commands reach it over its control socket. Runs
 * until SIGINT or SIGTERM; the engine's log and chat events are its stderr, one timestamped
 * line each.
 */
export async function runDaemon(
  home: DeviceHome,
  options: { folders: string; limitUp?: number; limitDown?: number; caFile?: string; direct: boolean; listen?: string },
): Promise<void> {
  const log = (message: string): void => void process.stderr.write(`${new Date().toISOString()} ${message}\n`);
  // Without an identity the service would wait for one; the CLI says to run init instead.
  home.identity();
  const service = new EngineService((event) => {
    // One line each: a request that failed unexpectedly comes with its stack, which is for the extension's log, not a terminal.
    if (event.event === 'log') log(printable(event.message.split('\n')[0]!));
    else if (event.event === 'chat') log(`chat from ${printable(event.message.fromName)}: ${printable(event.message.text)}`);
  });
  const { identity } = await service.handlers
    .start({
      home: home.dir,
      folders: options.folders,
      ...(options.limitUp ? { limitUp: options.limitUp } : {}),
      ...(options.limitDown ? { limitDown: options.limitDown } : {}),
      ...(options.caFile ? { caFile: options.caFile } : {}),
      direct: options.direct,
      ...(options.listen !== undefined ? { listen: options.listen } : {}),
    })
    .catch((err: unknown) => {
      // A listen address that cannot be used is the command line's mistake.
      throw err instanceof EngineError && err.code === 'usage' ? new UsageError(err.message) : err;
    });
  writeAtomic(home.file('run.pid'), String(process.pid));
  let written = '';
  const writeStatus = (): void => {
    const status = service.agentStatus();
    const text = status ? JSON.stringify(status, null, 2) : '';
    if (text === '' || text === written) return;
    writeReplacing(home.file('status.json'), text);
    written = text;
  };
  const timer = setInterval(writeStatus, STATUS_EVERY_MS);
  log(`running as device ${identity?.device ?? '?'}`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  clearInterval(timer);
  await service.close();
  fs.rmSync(home.file('run.pid'), { force: true });
}
