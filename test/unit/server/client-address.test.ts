import * as assert from 'node:assert/strict';
import type * as http from 'node:http';
import { test } from 'node:test';
import { clientAddress } from '../../../src/server/client-address';

function request(remoteAddress: string, forwarded?: string | string[]): http.IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  } as unknown as http.IncomingMessage;
}

test('client address: without trustProxy the socket address, whatever X-Forwarded-For claims', () => {
  assert.equal(clientAddress(request('10.0.0.9', '1.2.3.4'), false), '10.0.0.9');
});

test('client address: with trustProxy the last X-Forwarded-For entry, the one the proxy appended', () => {
  assert.equal(clientAddress(request('10.0.0.9', '6.6.6.6, 203.0.113.7'), true), '203.0.113.7');
  assert.equal(clientAddress(request('10.0.0.9', ['6.6.6.6', '2001:db8::1']), true), '2001:db8::1');
});

test('client address: with trustProxy, no header or one that is not an address leaves the socket address', () => {
  assert.equal(clientAddress(request('10.0.0.9'), true), '10.0.0.9');
  assert.equal(clientAddress(request('10.0.0.9', ' , '), true), '10.0.0.9');
  assert.equal(clientAddress(request('10.0.0.9', '1.2.3.4, evil\nline'), true), '10.0.0.9');
});
