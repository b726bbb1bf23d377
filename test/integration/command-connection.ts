/**
 * A hostile device's command connection, as a child process: signs in with the real client in
 * the `command` mode the CLI uses, then sends what its stdin asks for and prints what happens.
 * Run with a device home and a server URL; reads lines from stdin:
 *   relay DEVICE            a relay frame to DEVICE
 *   deposit DEVICE BYTES    a mailbox item of BYTES bytes for DEVICE
 *   remove USER             a request to remove the contact USER
 *   state                   a request; its reply ("replied") shows the server handled what came before
 * and prints "ready USER DEVICE", "replied", "problem CODE MESSAGE" and "disconnected REASON" lines.
 */
import * as crypto from 'node:crypto';
import * as readline from 'node:readline';
import { DeviceHome } from '../../src/node/agent/device-home';
import { RendezvousClient } from '../../src/node/net/rendezvous-client';

async function main(): Promise<void> {
  const [home, url] = process.argv.slice(2);
  const client = new RendezvousClient({ url: url!, keys: new DeviceHome(home!).identity().keys, mode: 'command' });
  client.on('problem', (code, message) => console.log(`problem ${code} ${message}`));
  client.on('disconnected', (reason) => {
    console.log(`disconnected ${reason}`);
    process.exit(0);
  });
  const state = await client.connect();
  console.log(`ready ${state.user.id} ${client.device.id}`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [what, device, bytes] = line.split(' ');
    if (what === 'relay') client.relay(device!, new Uint8Array(16));
    else if (what === 'deposit') client.deposit(crypto.randomBytes(16).toString('hex'), [device!], new Uint8Array(Number(bytes)));
    else if (what === 'state' || what === 'remove') {
      await client.request(what === 'state' ? { t: 'state' } : { t: 'removeContact', user: device! }).then(
        () => console.log('replied'),
        (err: Error) => console.log(`failed ${err.message}`),
      );
    }
  }
}

main().catch((err: unknown) => {
  console.log(`failed ${(err as Error).message}`);
  process.exit(1);
});
