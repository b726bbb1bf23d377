import { execFileSync } from 'node:child_process';
import type { Placement } from './net-cluster';

/**
 * A small routed network made of Linux network namespaces, for tests that need devices on a LAN
 * and a server elsewhere, as on a real network:
 *
 *   alice 10.231.1.2 ─┐                       ┌─ server 10.231.2.2
 *                     ├─ br0 [router] eth-s ──┘
 *   bob   10.231.1.3 ─┘  10.231.1.1   10.231.2.1
 *
 * alice and bob share one LAN segment (a bridge in the router's namespace: broadcasts reach both);
 * the server sits on a second segment that only the router's forwarding joins to the first.
 * Every interface lives inside the lab's namespaces (veth pairs are made in the router's and
 * moved at once), so several labs, and the host, never see each other's names or addresses.
 * Names carry the test process's id (`sfns<pid><role>`); a lab whose process died is removed
 * by the next one made (removeStaleLabs). Needs root and iproute2 (ip, tc).
 */

/** What each namespace of a lab is for: the one-letter role ends its name. */
export type Role = 'router' | 'server' | 'alice' | 'bob';

const ROLE_LETTER: Record<Role, string> = { router: 'r', server: 's', alice: 'a', bob: 'b' };
const NAME_PREFIX = 'sfns';
const STALE_NAME = new RegExp(`^${NAME_PREFIX}(\\d+)[rsab]$`);

/** Each device's and the server's address; the router has the first of each segment. */
export const LAB_ADDRESSES = { alice: '10.231.1.2', bob: '10.231.1.3', server: '10.231.2.2' } as const;
const LAN_ROUTER = '10.231.1.1';
const SERVER_ROUTER = '10.231.2.1';

/** `command ARGS` (iproute2's ip or tc), bounded; its failure carries the command's own message. */
function iproute(command: 'ip' | 'tc', args: readonly string[]): string {
  try {
    return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

export const ip = (args: readonly string[]): string => iproute('ip', args);

/**
 * Throws, with what to do, unless this process can make namespaces: it must run as root with
 * iproute2 installed. A test calls this first so a machine without them fails it, never skips it.
 */
export function requireNamespaceTools(): void {
  if (process.getuid?.() !== 0)
    throw new Error('this test makes network namespaces (ip netns add) and needs root: run it as root, or in a container as root');
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore', timeout: 10_000 });
    execFileSync('tc', ['-V'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    throw new Error('this test needs iproute2\'s "ip" and "tc" commands: apt-get install iproute2');
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lab namespaces that exist now, with the process that made each. */
function labNamespaces(): { name: string; pid: number }[] {
  return ip(['netns', 'list'])
    .split('\n')
    .flatMap((line) => {
      const name = line.trim().split(/\s+/)[0] ?? '';
      const m = STALE_NAME.exec(name);
      return m ? [{ name, pid: Number(m[1]) }] : [];
    });
}

/** Kills what still runs in namespace `name` (a daemon of a test that was killed), then removes it. */
function removeNamespace(name: string): void {
  for (const pid of ip(['netns', 'pids', name]).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  ip(['netns', 'delete', name]);
}

/** Removes the namespaces of labs whose test process is gone (killed before it could clean up). */
export function removeStaleLabs(): string[] {
  const stale = labNamespaces().filter((n) => n.pid !== process.pid && !alive(n.pid));
  for (const n of stale) removeNamespace(n.name);
  return stale.map((n) => n.name);
}

export class NetworkLab {
  private readonly made: string[] = [];

  private constructor(readonly tag: string) {}

  /** The namespace of `role`. */
  namespace(role: Role): string {
    return `${NAME_PREFIX}${this.tag}${ROLE_LETTER[role]}`;
  }

  /** Runs a command in `role`'s namespace: the words before it. */
  prefix(role: Role): string[] {
    return ['ip', 'netns', 'exec', this.namespace(role)];
  }

  /**
   * Where a NetWorld's processes run in this lab: the server and alice and bob each in their own,
   * the daemons accepting direct links on every address of theirs (and so announcing on the LAN).
   */
  placement(): Placement {
    return {
      serverHost: LAB_ADDRESSES.server,
      directListen: undefined,
      prefix: (who) => {
        if (who !== 'server' && who !== 'alice' && who !== 'bob') throw new Error(`the lab has no place for ${who}`);
        return this.prefix(who);
      },
    };
  }

  /**
   * Makes the lab, after removing stale ones. `tag` tells labs of one process apart (a digit or
   * two); on any failure what was made is removed before the error is thrown.
   */
  static create(tag = ''): NetworkLab {
    requireNamespaceTools();
    removeStaleLabs();
    const lab = new NetworkLab(`${process.pid}${tag}`);
    try {
      lab.build();
    } catch (err) {
      lab.close();
      throw err;
    }
    return lab;
  }

  private build(): void {
    for (const role of ['router', 'server', 'alice', 'bob'] as const) {
      const ns = this.namespace(role);
      ip(['netns', 'add', ns]);
      this.made.push(ns);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const router = this.namespace('router');
    ip(['-n', router, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', router, 'addr', 'add', `${LAN_ROUTER}/24`, 'dev', 'br0']);
    ip(['-n', router, 'link', 'set', 'br0', 'up']);
    for (const who of ['alice', 'bob'] as const) {
      const port = `eth-${ROLE_LETTER[who]}`;
      this.cable(who, port);
      ip(['-n', router, 'link', 'set', port, 'master', 'br0']);
      ip(['-n', router, 'link', 'set', port, 'up']);
      this.address(who, `${LAB_ADDRESSES[who]}/24`, LAN_ROUTER);
    }
    this.cable('server', 'eth-s');
    ip(['-n', router, 'addr', 'add', `${SERVER_ROUTER}/24`, 'dev', 'eth-s']);
    ip(['-n', router, 'link', 'set', 'eth-s', 'up']);
    this.address('server', `${LAB_ADDRESSES.server}/24`, SERVER_ROUTER);
    // /proc/sys/net is the namespace's own: forwarding on in the router only.
    execFileSync('ip', ['netns', 'exec', router, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'], { timeout: 10_000 });
  }

  /** A veth pair: `routerEnd` in the router's namespace, eth0 in `role`'s. */
  private cable(role: Role, routerEnd: string): void {
    ip(['-n', this.namespace('router'), 'link', 'add', routerEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.namespace(role)]);
  }

  private address(role: Role, cidr: string, gateway: string): void {
    const ns = this.namespace(role);
    ip(['-n', ns, 'addr', 'add', cidr, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    ip(['-n', ns, 'route', 'add', 'default', 'via', gateway]);
  }

  /**
   * Cuts the LAN path between alice and bob, both ways, and nothing else: each drops what it
   * sends to the other's address (a blackhole route, more specific than the LAN's), while both
   * still reach the server through the router, and broadcasts still go out.
   */
  cutLan(): void {
    ip(['-n', this.namespace('alice'), 'route', 'add', 'blackhole', `${LAB_ADDRESSES.bob}/32`]);
    ip(['-n', this.namespace('bob'), 'route', 'add', 'blackhole', `${LAB_ADDRESSES.alice}/32`]);
  }

  /** Undoes cutLan. */
  restoreLan(): void {
    ip(['-n', this.namespace('alice'), 'route', 'del', 'blackhole', `${LAB_ADDRESSES.bob}/32`]);
    ip(['-n', this.namespace('bob'), 'route', 'del', 'blackhole', `${LAB_ADDRESSES.alice}/32`]);
  }

  /**
   * Caps what the router sends down each LAN port (to alice, to bob) at `mbit`: transfers take
   * long enough for a test to act in the middle of one. Both paths to a device cross its port.
   */
  capLan(mbit: number): void {
    for (const port of ['eth-a', 'eth-b'])
      iproute('tc', [
        '-n',
        this.namespace('router'),
        ...`qdisc replace dev ${port} root tbf rate ${mbit}mbit burst 256kb latency 50ms`.split(' '),
      ]);
  }

  /** Kills anything left running in the lab and removes its namespaces; safe to call twice. */
  close(): void {
    const errors: string[] = [];
    for (const ns of this.made.splice(0).reverse()) {
      try {
        removeNamespace(ns);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length > 0) throw new Error(`removing the lab: ${errors.join('; ')}`);
  }
}
