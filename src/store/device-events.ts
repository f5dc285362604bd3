/**
 * The per-device event log: provisioning changes written by the API, registrations and
 * authentication failures written by the registrar. Newest first when read.
 */
import type { DeviceEventRow } from './schema.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

/** Categories in use; the column is free text so later writers can add their own. */
export const DEVICE_EVENT_CATEGORIES = ['provisioning', 'registration', 'auth'] as const;

export interface DeviceEvent {
  id: number;
  device_id: number | null;
  category: string;
  type: string;
  detail: string;
  source_ip: string | null;
  created_at: string;
}

export function toDeviceEvent(row: DeviceEventRow): DeviceEvent {
  return {
    id: row.id,
    device_id: row.device_id,
    category: row.category,
    type: row.type,
    detail: row.detail,
    source_ip: row.source_ip,
    created_at: row.created_at,
  };
}

export interface NewDeviceEvent {
  deviceId: number | null;
  category: string;
  type: string;
  detail: string;
  sourceIp?: string | null;
  /** Epoch ms; defaults to now (injectable for tests). */
  at?: number;
}

export async function insertDeviceEvent(db: Db, e: NewDeviceEvent): Promise<DeviceEventRow> {
  return db.insertInto('device_events').values({
    device_id: e.deviceId,
    category: e.category,
    type: e.type,
    detail: e.detail,
    source_ip: e.sourceIp ?? null,
    created_at: isoNow(e.at),
  }).returningAll().executeTakeFirstOrThrow();
}

/** A page of one device's events, newest first (id order is insertion order). */
export async function listDeviceEvents(db: Db, deviceId: number, limit: number, offset: number): Promise<{ rows: DeviceEventRow[]; total: number }> {
  const q = db.selectFrom('device_events').where('device_id', '=', deviceId);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/**
 * A page of one category's events across devices, newest first; `deviceIds` non-null
 * restricts to those devices (events without a device, such as fetches with an unknown
 * token, are then left out).
 */
export async function listEventsByCategory(db: Db, category: string, deviceIds: readonly number[] | null, limit: number, offset: number): Promise<{ rows: DeviceEventRow[]; total: number }> {
  if (deviceIds !== null && deviceIds.length === 0) return { rows: [], total: 0 };
  let q = db.selectFrom('device_events').where('category', '=', category);
  if (deviceIds !== null) q = q.where('device_id', 'in', deviceIds);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}
