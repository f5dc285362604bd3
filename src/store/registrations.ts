import type { Kysely, Transaction } from 'kysely';
import type { DB, RegistrationRow } from './schema.ts';
import { isoNow } from './time.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** One contact bound to an address-of-record (RFC 3261 §10), as the location service holds it. */
export interface Binding {
  aor: string;
  deviceId: number;
  /** instance (+ reg-id) when the device sent them, else the contact URI. */
  key: string;
  contactUri: string;
  /** The Contact as the device sent it (name-addr), re-sent in the 200 with `expires`. */
  contact: string;
  q: number;
  expiresAt: number;
  instanceId: string | null;
  regId: number | null;
  callId: string;
  cseq: number;
  transport: string;
  sourceIp: string;
  sourcePort: number;
  localPort: number | null;
  /** Stream flow the REGISTER came on: requests to this contact reuse it (RFC 5626 §5.3). */
  connectionId: number | null;
  userAgent: string | null;
  createdAt: number;
  updatedAt: number;
}

export function rowToBinding(r: RegistrationRow): Binding {
  return {
    aor: r.aor, deviceId: r.device_id, key: r.binding_key, contactUri: r.contact_uri, contact: r.contact,
    q: Number(r.q), expiresAt: Date.parse(r.expires_at), instanceId: r.instance_id,
    regId: r.reg_id === null ? null : Number(r.reg_id), callId: r.call_id, cseq: Number(r.cseq),
    transport: r.transport, sourceIp: r.source_ip, sourcePort: r.source_port, localPort: r.local_port,
    // A flow does not survive a restart; requests then go to the source address.
    connectionId: null, userAgent: r.user_agent,
    createdAt: Date.parse(r.created_at), updatedAt: Date.parse(r.updated_at),
  };
}

export async function loadLiveRegistrations(db: Db, now = Date.now()): Promise<Binding[]> {
  const rows = await db.selectFrom('registrations').selectAll().where('expires_at', '>', isoNow(now)).execute();
  return rows.map(rowToBinding);
}

/** One REGISTER's changes in one transaction: the 200 goes out only after this commits. */
export async function saveBindings(db: Kysely<DB>, upserts: readonly Binding[], removals: readonly Binding[]): Promise<void> {
  if (upserts.length === 0 && removals.length === 0) return;
  await db.transaction().execute(async (tx) => {
    for (const b of removals) {
      await tx.deleteFrom('registrations').where('aor', '=', b.aor).where('binding_key', '=', b.key).execute();
    }
    for (const b of upserts) {
      const values = {
        device_id: b.deviceId, aor: b.aor, binding_key: b.key, contact_uri: b.contactUri, contact: b.contact,
        q: b.q, expires_at: isoNow(b.expiresAt), instance_id: b.instanceId, reg_id: b.regId,
        call_id: b.callId, cseq: b.cseq, transport: b.transport, source_ip: b.sourceIp, source_port: b.sourcePort,
        local_port: b.localPort, user_agent: b.userAgent, created_at: isoNow(b.createdAt), updated_at: isoNow(b.updatedAt),
      };
      const { aor: _a, binding_key: _k, created_at: _c, ...update } = values;
      await tx.insertInto('registrations').values(values)
        .onConflict((oc) => oc.columns(['aor', 'binding_key']).doUpdateSet(update))
        .execute();
    }
  });
}

export async function deleteExpiredRegistrations(db: Db, now = Date.now()): Promise<number> {
  const r = await db.deleteFrom('registrations').where('expires_at', '<=', isoNow(now)).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function deleteDeviceRegistrations(db: Db, deviceId: number): Promise<void> {
  await db.deleteFrom('registrations').where('device_id', '=', deviceId).execute();
}
