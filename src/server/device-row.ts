import { parseDeviceInfo, type DeviceInfo } from '../sync/protocol/rendezvous';

/** A device as both stores keep it: keys as hex columns, its endorsement as JSON. */
export interface DeviceRow {
  readonly id: string;
  readonly sign_public: string;
  readonly agree_public: string;
  readonly endorsement: string | null;
}

export function deviceOf(row: DeviceRow): DeviceInfo {
  const device = { id: row.id, signPublic: row.sign_public, agreePublic: row.agree_public };
  return row.endorsement ? parseDeviceInfo({ ...device, endorsement: JSON.parse(row.endorsement) as unknown }) : device;
}
