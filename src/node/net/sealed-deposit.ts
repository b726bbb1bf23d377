import * as crypto from 'node:crypto';
import { fromHex } from '../../sync/util/bytes';
import type { UserInfo } from '../../sync/protocol/rendezvous';
import type { DeviceKeys } from '../crypto/device-keys';
import type { RendezvousClient } from './rendezvous-client';
import { sealFor } from '../crypto/sealed-box';

/**
 * Deposits one payload as a sealed box per device of the given users (this device excepted):
 * delivered at once to devices that are online, at their next sign-in to the others. Returns
 * the number of devices it was addressed to.
 */
export function depositSealed(client: RendezvousClient, keys: DeviceKeys, recipients: readonly UserInfo[], payload: Uint8Array): number {
  let devices = 0;
  for (const user of recipients) {
    for (const device of user.devices) {
      if (device.id === client.device.id) continue;
      const box = sealFor(
        keys,
        client.device.id,
        { signPublic: fromHex(device.signPublic), agreePublic: fromHex(device.agreePublic) },
        device.id,
        payload,
      );
      if (!client.deposit(crypto.randomBytes(16).toString('hex'), [device.id], box)) throw new Error('not connected to the server');
      devices++;
    }
  }
  return devices;
}
