import type { ClusterFigures } from './cluster/cluster';

/** What /metrics tells of the cluster as this process sees it. */
export interface ProcessFigures extends ClusterFigures {
  /** Sessions signed in on this process. */
  readonly localSessions: number;
  /** Sessions on other processes, as this process's directory knows them. */
  readonly remoteSessions: number;
}

/** Counters and gauges of one server process, rendered in the Prometheus text format. */
export class ServerMetrics {
  connections = 0;
  authenticated = 0;
  routedMessages = 0;
  routedBytes = 0;
  deposits = 0;
  deliveries = 0;
  closedForErrors = 0;
  /** TCP connections closed at once: their address had too many open. */
  connectionsRefused = 0;
  /** TCP connections closed because their HTTP request (an upgrade, say) was not complete in time. */
  requestsTimedOut = 0;
  /** Connections closed for sending more than sign-in needs before signing in. */
  tooMuchBeforeSignIn = 0;
  /** Relay frames dropped because their target took nothing for the relay wait. */
  relaysRefused = 0;
  /** Connections closed because replies and pushes piled up unread toward them. */
  notReadingClosed = 0;
  /** Sign-ins that would have made an account over the account rate limits. */
  accountsRefused = 0;
  /** Invite or link codes refused: over the hourly rate or the unused-code cap. */
  codesRefused = 0;
  /** Mailbox items refused: over the user's quota or the whole mailbox's cap. */
  depositsRefused = 0;
  /** Connections terminated for missing a heartbeat. */
  heartbeatsLost = 0;
  /** Bytes queued toward all connections now (server and kernel buffers). */
  outboundBytes = 0;

  render(mailbox: { items: number; bytes: number }, cluster: ProcessFigures): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    };
    metric('sharedfolders_connections', 'gauge', 'Open WebSocket connections.', this.connections);
    metric('sharedfolders_authenticated_connections', 'gauge', 'Connections whose device has signed in.', this.authenticated);
    metric('sharedfolders_routed_messages_total', 'counter', 'Relay frames routed between devices.', this.routedMessages);
    metric('sharedfolders_routed_bytes_total', 'counter', 'Bytes of relay frames routed between devices.', this.routedBytes);
    metric('sharedfolders_mailbox_deposits_total', 'counter', 'Items deposited for offline devices.', this.deposits);
    metric('sharedfolders_mailbox_deliveries_total', 'counter', 'Mailbox items sent to devices.', this.deliveries);
    metric(
      'sharedfolders_connections_closed_for_errors_total',
      'counter',
      'Connections closed for bad input or limits.',
      this.closedForErrors,
    );
    metric(
      'sharedfolders_connections_refused_total',
      'counter',
      'TCP connections closed at once because their address had too many open.',
      this.connectionsRefused,
    );
    metric(
      'sharedfolders_requests_timed_out_total',
      'counter',
      'TCP connections closed because their HTTP request or upgrade was not complete in time.',
      this.requestsTimedOut,
    );
    metric(
      'sharedfolders_closed_before_sign_in_for_size_total',
      'counter',
      'Connections closed for sending more bytes than sign-in needs before signing in.',
      this.tooMuchBeforeSignIn,
    );
    metric('sharedfolders_relays_refused_total', 'counter', 'Relay frames dropped because the target was not reading.', this.relaysRefused);
    metric(
      'sharedfolders_closed_not_reading_total',
      'counter',
      'Connections closed because replies and pushes piled up unread toward them.',
      this.notReadingClosed,
    );
    metric('sharedfolders_accounts_refused_total', 'counter', 'New accounts refused by the account rate limits.', this.accountsRefused);
    metric('sharedfolders_codes_refused_total', 'counter', 'Invite and link codes refused by the code limits.', this.codesRefused);
    metric(
      'sharedfolders_deposits_refused_total',
      'counter',
      "Mailbox items refused by a user's quota or the mailbox cap.",
      this.depositsRefused,
    );
    metric('sharedfolders_heartbeats_lost_total', 'counter', 'Connections terminated for missing a heartbeat.', this.heartbeatsLost);
    metric('sharedfolders_outbound_buffered_bytes', 'gauge', 'Bytes queued toward all connections.', this.outboundBytes);
    metric('sharedfolders_mailbox_items', 'gauge', 'Mailbox items not yet acknowledged by every recipient.', mailbox.items);
    metric('sharedfolders_mailbox_bytes', 'gauge', 'Bytes of mailbox items not yet acknowledged by every recipient.', mailbox.bytes);
    const node = cluster.node.replace(/["\\\n]/g, '_');
    lines.push(
      '# HELP sharedfolders_node_info The cluster node name of this process.',
      '# TYPE sharedfolders_node_info gauge',
      `sharedfolders_node_info{node="${node}"} 1`,
    );
    metric('sharedfolders_local_sessions', 'gauge', 'Sessions signed in on this process.', cluster.localSessions);
    metric(
      'sharedfolders_remote_sessions',
      'gauge',
      "Sessions on other processes, as this process's directory knows them.",
      cluster.remoteSessions,
    );
    metric(
      'sharedfolders_cluster_nodes_alive',
      'gauge',
      'Processes of the cluster heard within the liveness bound, this one included.',
      cluster.nodesAlive,
    );
    metric('sharedfolders_bus_connected', 'gauge', '1 while the bus is connected (always 1 for a single process).', cluster.busConnected);
    metric('sharedfolders_bus_messages_in_total', 'counter', 'Bus messages received from other processes.', cluster.messagesIn);
    metric('sharedfolders_bus_messages_out_total', 'counter', 'Bus messages sent to other processes.', cluster.messagesOut);
    metric('sharedfolders_bus_bytes_in_total', 'counter', 'Bytes of bus messages received.', cluster.bytesIn);
    metric('sharedfolders_bus_bytes_out_total', 'counter', 'Bytes of bus messages sent.', cluster.bytesOut);
    metric(
      'sharedfolders_relays_forwarded_total',
      'counter',
      'Relay frames sent to another process for a device signed in there.',
      cluster.relaysForwarded,
    );
    return lines.join('\n') + '\n';
  }
}
