import type { SpaceStatus } from '../../node/agent/agent-status';
import { printable } from '../../sync/util/printable';
import { flag, type CommandSpec } from '../command-spec';
import { CA_OPTION, connectionOf, HOME_OPTION, JSON_OPTION, homeOf, localTime } from './common-options';
import { statusReport } from './status-report';

export const statusCommand: CommandSpec = {
  name: 'status',
  summary: "show this device's spaces, members, presence and conflicts",
  options: { home: HOME_OPTION, json: JSON_OPTION, ca: CA_OPTION },
  notes: [
    'With a running daemon the status is live. Without one, presence is what the server reports at that',
    'moment and sync state is unknown ("inSync": false); --json says which with "daemon" and "asOf".',
  ],
  run: async (args) => {
    const home = homeOf(args);
    const { status, daemon, asOf } = await statusReport(home, connectionOf(args));
    if (flag(args, 'json')) {
      console.log(JSON.stringify({ ...status, daemon, asOf: new Date(asOf).toISOString() }, null, 2));
      return;
    }
    if (!daemon)
      console.log(
        `no daemon is running for ${home.dir}: presence is what the server last reported, at ${localTime(asOf)}; ` +
          `sync state is unknown until "shared-folders run --home ${home.dir}"`,
      );
    console.log(`${printable(status.user?.name ?? '?')} (device ${status.device}), ${status.connected ? 'connected' : 'not connected'}`);
    for (const s of status.spaces) console.log(`  ${s.id} ${s.path}: ${daemon ? syncText(s) : 'sync state unknown'}; ${membersText(s)}`);
    for (const p of status.peers ?? [])
      console.log(`  device ${p.device} of ${printable(p.name || '?')}: ${p.path === 'direct' ? 'direct link' : 'through the server'}`);
    for (const c of status.conflicts)
      console.log(`  conflict in ${c.space}: ${printable(c.path)} (the other version is ${printable(c.copy)})`);
    for (const e of status.errors) console.log(`  error in ${e.space}: ${e.path ? `${printable(e.path)}: ` : ''}${printable(e.message)}`);
  },
};

function syncText(s: SpaceStatus): string {
  const cache = s.mailCache ? `, mailbox block cache ${mib(s.mailCache.bytes)} of ${mib(s.mailCache.budget)}` : '';
  return `${s.inSync ? 'in sync' : 'not in sync yet'}${cache}`;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function membersText(s: SpaceStatus): string {
  return s.members.map((m) => `${printable(m.name)} (${m.role}, ${m.presence})`).join(', ');
}
