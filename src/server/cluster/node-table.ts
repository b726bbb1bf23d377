/**
 * The other processes of the cluster as this one hears them: each one's incarnation (a restart is
 * a new process), when it was last heard, and the number of its last directory event seen, so a
 * missed event shows up as a gap and a heartbeat after a missed event shows up as a lag.
 */
export class NodeTable {
  private readonly nodes = new Map<string, { inc: string; heard: number; seq: number; beatMs: number | undefined }>();

  /**
   * Notes a message from `node`. 'new': never heard, or declared dead since; 'restarted': a new
   * incarnation of a process still listed (its old sessions are gone); 'known' otherwise.
   */
  heard(node: string, inc: string, now: number): 'new' | 'restarted' | 'known' {
    const entry = this.nodes.get(node);
    if (entry && entry.inc === inc) {
      entry.heard = now;
      return 'known';
    }
    this.nodes.set(node, { inc, heard: now, seq: 0, beatMs: undefined });
    return entry ? 'restarted' : 'new';
  }

  /**
   * A directory event numbered `seq`: 'stale' when it is not newer than what is known (a repeat,
   * or older than a snapshot), 'gap' when events before it were missed, else 'next'.
   */
  event(node: string, seq: number): 'stale' | 'next' | 'gap' {
    const entry = this.nodes.get(node);
    if (!entry || seq <= entry.seq) return 'stale';
    const gap = seq > entry.seq + 1;
    entry.seq = seq;
    return gap ? 'gap' : 'next';
  }

  /** A heartbeat says the sender's last event is `seq`: true when this process missed some. */
  behind(node: string, seq: number): boolean {
    const entry = this.nodes.get(node);
    return entry !== undefined && seq > entry.seq;
  }

  /** How often `node` beats, as its heartbeat says: its silence is measured in its own beats. */
  beatsEvery(node: string, ms: number): void {
    const entry = this.nodes.get(node);
    if (entry && Number.isFinite(ms) && ms > 0) entry.beatMs = ms;
  }

  /** A snapshot as of event `seq` replaces what was known. */
  snapshotAt(node: string, seq: number): void {
    const entry = this.nodes.get(node);
    if (entry) entry.seq = seq;
  }

  remove(node: string): void {
    this.nodes.delete(node);
  }

  /**
   * Removes and returns the processes not heard for `beats` of their heartbeats (of `defaultBeatMs`
   * for one whose heartbeat has not come yet).
   */
  expire(now: number, beats: number, defaultBeatMs: number): string[] {
    const dead: string[] = [];
    for (const [node, entry] of this.nodes) {
      if (now - entry.heard > beats * (entry.beatMs ?? defaultBeatMs)) {
        this.nodes.delete(node);
        dead.push(node);
      }
    }
    return dead;
  }

  get size(): number {
    return this.nodes.size;
  }
}
