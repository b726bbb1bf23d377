import * as fs from 'node:fs';
import { writeAtomic } from '../disk/durable-write';

/**
 * What the user was already told about (conflicts, invitations), kept in the home, so a restart
 * of the host, or of VS Code, does not announce the same things again, and what arrived while it
 * was down is announced when it comes back.
 */
export class ReportedOnce {
  private groups: Record<string, string[]> | undefined;

  constructor(private readonly file: string) {}

  /**
   * The keys of `current` not reported before in `group`; from now on `current` is what the
   * group holds, so a key that goes away and comes back is news again.
   */
  fresh(group: string, current: readonly string[]): string[] {
    const groups = (this.groups ??= this.read());
    const before = new Set(groups[group] ?? []);
    const fresh = current.filter((k) => !before.has(k));
    if (fresh.length > 0 || current.length !== before.size) {
      if (current.length === 0) delete groups[group];
      else groups[group] = [...current];
      writeAtomic(this.file, JSON.stringify(groups), 0o600);
    }
    return fresh;
  }

  private read(): Record<string, string[]> {
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, string[]>;
    } catch {
      return {};
    }
  }
}
