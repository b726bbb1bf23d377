/** Counters and gauges of one server process, rendered in the Prometheus text format. */
export class ServerMetrics {
  connections = 0;
  authenticated = 0;
  routedMessages = 0;
  routedBytes = 0;
  deposits = 0;
  deliveries = 0;
  closedForErrors = 0;

  render(mailbox: { items: number; bytes: number }): string {
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
    metric('sharedfolders_mailbox_items', 'gauge', 'Mailbox items not yet acknowledged by every recipient.', mailbox.items);
    metric('sharedfolders_mailbox_bytes', 'gauge', 'Bytes of mailbox items not yet acknowledged by every recipient.', mailbox.bytes);
    return lines.join('\n') + '\n';
  }
}
