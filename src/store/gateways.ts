/**
 * Gateway rows (migration 220): one per start of a `gw_id`, the newest being the current one,
 * plus an event log per gateway. Live state is the gateway service's; these rows are what
 * survives a restart.
 */
import type { Db } from './db.ts';
import type { GatewayEventRow, GatewayRow } from './schema.ts';
import { isoNow } from './time.ts';

/** States of a gateway that is (or was, before a restart) doing something. */
export const LIVE_GATEWAY_STATES = ['starting', 'running', 'finalising'] as const;

export async function insertGateway(db: Db, g: { gwId: string; room: string; type: string; state: string; params: unknown }): Promise<GatewayRow> {
  return db.insertInto('gateways').values({
    gw_id: g.gwId, room: g.room, type: g.type, state: g.state, params: JSON.stringify(g.params), started_at: isoNow(),
  }).returningAll().executeTakeFirstOrThrow();
}

export async function updateGateway(db: Db, id: number, set: Partial<Pick<GatewayRow, 'state' | 'error' | 'recording_path' | 'recording_seconds' | 'transcript' | 'ended_at'>>): Promise<void> {
  await db.updateTable('gateways').set(set).where('id', '=', id).execute();
}

/** The newest row of a `gw_id`. */
export async function latestGateway(db: Db, gwId: string): Promise<GatewayRow | undefined> {
  return db.selectFrom('gateways').selectAll().where('gw_id', '=', gwId).orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export async function addGatewayEvent(db: Db, gatewayId: number, event: string, detail: string | null = null): Promise<void> {
  await db.insertInto('gateway_events').values({ gateway_id: gatewayId, event, detail, at: isoNow() }).execute();
}

export async function gatewayEvents(db: Db, gatewayId: number): Promise<GatewayEventRow[]> {
  return db.selectFrom('gateway_events').selectAll().where('gateway_id', '=', gatewayId).orderBy('id').execute();
}

/**
 * Marks every gateway a previous run left live as `ended` (start-up: nothing of it runs any
 * more). Returns how many.
 */
export async function endOrphanGateways(db: Db, reason: string): Promise<number> {
  const rows = await db.selectFrom('gateways').select('id').where('state', 'in', [...LIVE_GATEWAY_STATES]).execute();
  if (rows.length === 0) return 0;
  const now = isoNow();
  await db.updateTable('gateways').set({ state: 'ended', error: reason, ended_at: now }).where('id', 'in', rows.map((r) => r.id)).execute();
  await db.insertInto('gateway_events').values(rows.map((r) => ({ gateway_id: r.id, event: 'ended', detail: reason, at: now }))).execute();
  return rows.length;
}
