import * as fs from 'node:fs';
import { DeviceAgent } from '../node/agent/device-agent';
import type { DeviceHome } from '../node/agent/device-home';
import { writeAtomic, writeReplacing } from '../node/disk/durable-write';

/**
 * PLACEHOLDER (replaced at merge by the daemon of issue 19): the `run` body as it was in main.ts.
 * Limits are in bytes per second.
 */
export async function runDaemon(home: DeviceHome, options: { folders: string; limitUp?: number; limitDown?: number }): Promise<void> {
  const log = (message: string): void => void process.stderr.write(`${new Date().toISOString()} ${message}\n`);
  const agent = await DeviceAgent.start(home, {
    log,
    folders: options.folders,
    onChat: (m) => log(`chat from ${m.fromName}: ${m.text}`),
    ...(options.limitUp ? { limitUp: options.limitUp } : {}),
    ...(options.limitDown ? { limitDown: options.limitDown } : {}),
  });
  writeAtomic(home.file('run.pid'), String(process.pid));
  // Rewritten even when unchanged: its mtime is how `status` knows the daemon is alive.
  const writeStatus = (): void => writeReplacing(home.file('status.json'), JSON.stringify(agent.status(), null, 2));
  const timer = setInterval(writeStatus, 500);
  log(`running as device ${agent.client.device.id}`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  clearInterval(timer);
  await agent.close();
  fs.rmSync(home.file('run.pid'), { force: true });
}
