import * as fs from 'node:fs';
import { decodeInvite } from './codes';
import type { DeviceHome } from './device-home';
import { writeAtomic } from '../disk/durable-write';

export interface PendingInvite {
  readonly code: string;
  readonly server: string;
  readonly fingerprint: string;
}

/**
 * Invite codes the user opened (pasted, or from a vscode:// link) and has neither accepted nor
 * declined, kept in the home so they survive a restart. Opening one checks that it is a
 * well-formed code; nothing is sent to the server until it is accepted.
 */
export class PendingInvites {
  /** Read once: this process is the only one that changes the list. */
  private cached: PendingInvite[] | undefined;

  constructor(private readonly home: DeviceHome) {}

  list(): PendingInvite[] {
    if (!this.cached) {
      try {
        this.cached = JSON.parse(fs.readFileSync(this.file, 'utf8')) as PendingInvite[];
      } catch {
        this.cached = [];
      }
    }
    return [...this.cached];
  }

  open(code: string): PendingInvite {
    const decoded = decodeInvite(code);
    const pending: PendingInvite = { code: code.trim(), server: decoded.server, fingerprint: decoded.fingerprint };
    this.save([...this.list().filter((p) => p.code !== pending.code), pending]);
    return pending;
  }

  /** Forgets a code (accepted or declined); false when it was not pending. */
  remove(code: string): boolean {
    const list = this.list();
    const rest = list.filter((p) => p.code !== code.trim());
    if (rest.length !== list.length) this.save(rest);
    return rest.length !== list.length;
  }

  private get file(): string {
    return this.home.file('pending-invites.json');
  }

  private save(list: readonly PendingInvite[]): void {
    fs.mkdirSync(this.home.dir, { recursive: true });
    writeAtomic(this.file, JSON.stringify(list, null, 2), 0o600);
    this.cached = [...list];
  }
}
