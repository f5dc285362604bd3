/**
 * Mailboxes as MWI sees them, on the voicemail store's model (`store/voicemails.ts`): a
 * device's own box `device:<id>` and a DID's shared box `did:<id>`.
 *
 * On the wire a mailbox is named by a SIP user part (the `:` of the store key is not allowed
 * there, RFC 3261 §25.1): the device's username, or the DID's phone number. So a phone
 * subscribes to `sip:1001@pbx` for its own box (the AOR it registers, what baresip and most
 * phones do) and to `sip:+15551234567@pbx` for a number's box, and `Message-Account` says
 * the same name back.
 *
 * Who may watch what: a device its own box; a DID's box the devices that number's routes
 * ring or forward to (the phones that answer the number). Another device's box → 403.
 */
import { findDeviceById, findDeviceByUsername } from '../store/devices.ts';
import { findDidById, findDidByNumber } from '../store/dids.ts';
import { devicesWithUnsolicitedMwi } from '../store/mwi.ts';
import { routesForDid } from '../store/routes.ts';
import { countsByMailbox, mailboxKey, parseMailboxKey, type MailboxCounts } from '../store/voicemails.ts';
import type { Db } from '../store/db.ts';

export interface ResolvedMailbox {
  /** Store key: `device:<id>` or `did:<id>`. */
  mailbox: string;
  /** The SIP user part that names it (`Message-Account: sip:<account>@<domain>`). */
  account: string;
}

export class MwiMailboxes {
  constructor(private readonly db: Db) {}

  /**
   * The mailbox `device` watches when it subscribes to `user` (Request-URI user part):
   * `forbidden` for a box that is not the device's to watch, null when no box has that name.
   */
  async resolve(device: { id: number; username: string }, user: string): Promise<ResolvedMailbox | 'forbidden' | null> {
    if (user === device.username) return { mailbox: mailboxKey({ kind: 'device', id: device.id }), account: user };
    const did = await findDidByNumber(this.db, user) ?? (user.startsWith('+') ? undefined : await findDidByNumber(this.db, `+${user}`));
    if (did) {
      const watchers = await this.didWatchers(did.id);
      return watchers.includes(device.id) ? { mailbox: mailboxKey({ kind: 'did', id: did.id }), account: did.phone_number } : 'forbidden';
    }
    return (await findDeviceByUsername(this.db, user)) ? 'forbidden' : null;
  }

  counts(mailbox: string): Promise<MailboxCounts> {
    return countsByMailbox(this.db, mailbox);
  }

  /** A store key as a mailbox with its wire name; null when its device or DID is gone. */
  async byKey(mailbox: string): Promise<ResolvedMailbox | null> {
    const ref = parseMailboxKey(mailbox);
    if (!ref) return null;
    if (ref.kind === 'device') {
      const d = await findDeviceById(this.db, ref.id);
      return d ? { mailbox, account: d.username } : null;
    }
    const did = await findDidById(this.db, ref.id);
    return did ? { mailbox, account: did.phone_number } : null;
  }

  /** Devices that watch `mailbox` and want unsolicited NOTIFYs. */
  async unsolicitedDevices(mailbox: string): Promise<Array<{ id: number; username: string }>> {
    const ref = parseMailboxKey(mailbox);
    if (!ref) return [];
    const ids = ref.kind === 'device' ? [ref.id] : await this.didWatchers(ref.id);
    return devicesWithUnsolicitedMwi(this.db, ids);
  }

  /** Devices the routes of a DID ring or forward to. */
  private async didWatchers(didId: number): Promise<number[]> {
    const ids: number[] = [];
    for (const r of await routesForDid(this.db, didId)) {
      if (r.action === 'ring') ids.push(...r.action_data.device_ids);
      else if (r.action === 'forward' && 'device_id' in r.action_data) ids.push(r.action_data.device_id);
    }
    return ids;
  }
}
