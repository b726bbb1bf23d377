import * as net from 'node:net';

/**
 * Preloaded (`node --require`) into a device's process by the cluster harness: its TCP
 * connections to 127.0.0.1 leave from the loopback address SF_TEST_SOURCE_ADDRESS names, as a
 * device on its own machine would connect from its own address. The load balancer in front of a
 * cluster pins a user to a process by that address (load-balancer.ts); the device's code is
 * unchanged, and its server address is the one the whole service shares.
 */
const source = process.env['SF_TEST_SOURCE_ADDRESS'];
if (source) {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // net.connect and tls.connect pass their options already normalised, as [options, callback].
    const first = args[0];
    const options = (Array.isArray(first) ? first[0] : first) as Partial<net.TcpSocketConnectOpts> | undefined;
    if (options && typeof options === 'object' && options.host === '127.0.0.1' && options.localAddress === undefined)
      options.localAddress = source;
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
}
