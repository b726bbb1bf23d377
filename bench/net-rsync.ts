import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { freePort } from '../test/integration/net-cluster';
import { insertByte, rnd } from './net-data';

/**
 * Bytes `rsync --stats` moves (sent + received) for a 1-byte insert in the middle of a 100 MiB
 * file, against an rsync daemon on loopback; a string says why it could not run.
 */
export async function rsyncInsertBytes(dir: string): Promise<number | string> {
  try {
    execFileSync('rsync', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'rsync is not installed (apt-get install rsync)';
  }
  const module = nodePath.join(dir, 'rsync-module');
  const local = nodePath.join(dir, 'rsync-local');
  fs.mkdirSync(module, { recursive: true });
  fs.mkdirSync(local, { recursive: true });
  const conf = nodePath.join(dir, 'rsyncd.conf');
  const port = await freePort();
  fs.writeFileSync(
    conf,
    `pid file = ${dir}/rsyncd.pid\nport = ${port}\naddress = 127.0.0.1\nuse chroot = no\n[bench]\npath = ${module}\nread only = no\nuid = root\ngid = root\n`,
  );
  execFileSync('rsync', ['--daemon', `--config=${conf}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    const data = rnd(100 * 1024 * 1024);
    fs.writeFileSync(nodePath.join(local, 'big.bin'), data);
    execFileSync('rsync', ['-a', nodePath.join(local, 'big.bin'), `rsync://127.0.0.1:${port}/bench/`]);
    fs.writeFileSync(nodePath.join(local, 'big.bin'), insertByte(data));
    const out = execFileSync('rsync', [
      '-a',
      '--stats',
      '--no-whole-file',
      nodePath.join(local, 'big.bin'),
      `rsync://127.0.0.1:${port}/bench/`,
    ]).toString();
    const sent = Number(/Total bytes sent: ([\d,]+)/.exec(out)![1]!.replace(/,/g, ''));
    const received = Number(/Total bytes received: ([\d,]+)/.exec(out)![1]!.replace(/,/g, ''));
    return sent + received;
  } finally {
    try {
      process.kill(Number(fs.readFileSync(nodePath.join(dir, 'rsyncd.pid'), 'utf8')));
    } catch {
      // Already gone.
    }
  }
}
