import type { BurstLog } from './burst-log';
import type { Cluster } from './cluster/cluster';
import type { Connection } from './connection';
import type { JsonLog } from './json-log';
import type { ServerLimits } from './server-limits';
import type { ServerMetrics } from './server-metrics';
import type { ServerRates } from './server-rates';
import type { ServerStore } from './server-store';
import type { SignedInDevices } from './signed-in-devices';

/** What the request handlers of every area share. */
export interface ServerContext {
  readonly store: ServerStore;
  readonly limits: ServerLimits;
  readonly log: JsonLog;
  /** For conditions an attacker can repeat thousands of times a second: one line per burst. */
  readonly bursts: BurstLog;
  readonly metrics: ServerMetrics;
  readonly signedIn: SignedInDevices;
  /** The other processes of a cluster; LocalCluster when there are none. */
  readonly cluster: Cluster;
  readonly rates: ServerRates;
  /** Bumped on every change of who may reach whom: connections' cached peers older than it are stale. */
  readonly rights: { version: number };
  /** Takes a session connection out of routing and tells its contacts; once per connection. */
  unregister(conn: Connection, code: number): Promise<void>;
}
