/** Users, devices, spaces and roots are named by 16 random bytes in lower-case hex. */
const HEX_ID = /^[0-9a-f]{32}$/;

/** Whether `value` is such an id: safe as a file name, and the only shape peers may send one in. */
export function isHexId(value: unknown): value is string {
  return typeof value === 'string' && HEX_ID.test(value);
}
