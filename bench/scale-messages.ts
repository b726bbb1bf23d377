/**
 * What bench/scale.ts says to its client processes (bench/scale-client.ts) over the IPC channel,
 * and what they answer. Each client process holds a contiguous range of device pairs: pair `i`
 * has device `a` on server process `i mod N` and device `b` on the next one, so for more than one
 * process every pair's traffic crosses processes.
 */

export type ClientCommand =
  /** Makes the pairs: two new accounts each, contacts through an invite, both signed in. */
  | { readonly t: 'setup'; readonly urls: readonly string[]; readonly first: number; readonly count: number }
  /** Asks the server for the state of `sample` pairs' devices: is the contact online? */
  | { readonly t: 'verify'; readonly sample: number }
  /** Signs the first `count` `b` devices out, and waits until their contacts see them offline. */
  | { readonly t: 'signout'; readonly count: number }
  /** Signs the devices signed out in again, WINDOW at a time per client process. */
  | { readonly t: 'signin' }
  /** Waits until the contacts of the devices signed in again see them online. */
  | { readonly t: 'presence' }
  /** `pairs` pairs relay `bytes`-byte messages from a to b for `seconds`. */
  | { readonly t: 'relay'; readonly pairs: number; readonly seconds: number; readonly bytes: number }
  /** `pairs` pairs deposit `items` mailbox items each from a for b, which is online and acknowledges them. */
  | { readonly t: 'mailbox'; readonly pairs: number; readonly items: number; readonly bytes: number };

export type ClientReply =
  | { readonly t: 'setup'; readonly pairs: number; readonly ms: number }
  | {
      readonly t: 'verify';
      readonly checked: number;
      /** Of the checked pairs, how many both ends the server shows the other online. */
      readonly online: number;
      /** Sessions of this process the server closed since they signed in. */
      readonly disconnects: number;
    }
  /** How many of the signed-out devices their contacts saw go offline. */
  | { readonly t: 'signout'; readonly offline: number }
  /** `failed`: why the last sign-in that failed did, or empty. */
  | { readonly t: 'signin'; readonly signedIn: number; readonly failed: string }
  /** Of the devices signed in again, how many their contact saw come online by a presence push. */
  | { readonly t: 'presence'; readonly seen: number }
  /** `busy`: pushes telling a sender that a frame was dropped because its target was not reading. */
  | { readonly t: 'relay'; readonly sent: number; readonly received: number; readonly busy: number; readonly ms: number }
  | { readonly t: 'mailbox'; readonly deposited: number; readonly delivered: number; readonly refused: number; readonly ms: number }
  | { readonly t: 'failed'; readonly message: string };

/**
 * How many sign-ins one client process has in flight at once: enough to keep the servers busy,
 * few enough that handshakes do not queue for long on a machine whose cores run clients too.
 */
export const WINDOW = 32;
