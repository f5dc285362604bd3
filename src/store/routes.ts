/**
 * Inbound call routes: per DID, an ordered list of rules "when these conditions hold, do
 * this action". `conditions` and `action_data` are JSON text columns; rows become typed
 * `Route`s here. Evaluation is `src/pbx/evaluate-routes.ts`.
 */
import type { Updateable } from 'kysely';
import type { RouteRow, RoutesTable } from './schema.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

/** Days as `conditions.days` spells them, in ISO 8601 order (Monday first). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Every present condition must hold; an absent one always holds. */
export interface RouteConditions {
  /** "HH:MM" 24 h, inclusive; given together with `time_end`. */
  time_start?: string;
  /** "HH:MM" 24 h, exclusive; earlier than `time_start` means the window crosses midnight. */
  time_end?: string;
  days?: Weekday[];
  /** Number pattern (see `src/pbx/phone-number.ts`). */
  caller_id?: string;
  /** IANA zone the time window and days are read in; UTC when absent. */
  timezone?: string;
}

export const ROUTE_ACTIONS = ['ring', 'forward', 'voicemail', 'reject'] as const;
export type RouteActionName = (typeof ROUTE_ACTIONS)[number];

/** `voicemail_fallback`: busy, unanswered or unregistered → voicemail (see call-router.ts). */
export interface RingData { device_ids: number[]; timeout?: number; voicemail_fallback?: boolean }
export type ForwardData = { device_id: number; voicemail_fallback?: boolean } | { number: string };
export interface VoicemailData { device_id?: number }
export interface RejectData { code?: number; reason?: string }

export type RouteAction =
  | { action: 'ring'; action_data: RingData }
  | { action: 'forward'; action_data: ForwardData }
  | { action: 'voicemail'; action_data: VoicemailData }
  | { action: 'reject'; action_data: RejectData };

export type Route = {
  id: number;
  name: string;
  did_id: number | null;
  priority: number;
  enabled: boolean;
  conditions: RouteConditions;
  created_at: string;
  updated_at: string;
} & RouteAction;

export function toRoute(row: RouteRow): Route {
  return {
    id: row.id,
    name: row.name,
    did_id: row.did_id,
    priority: row.priority,
    enabled: row.enabled === 1,
    conditions: JSON.parse(row.conditions) as RouteConditions,
    action: row.action,
    action_data: JSON.parse(row.action_data),
    created_at: row.created_at,
    updated_at: row.updated_at,
  } as Route;
}

export interface NewRoute {
  name: string;
  didId: number;
  /** Defaults to one past the DID's last priority. */
  priority?: number;
  enabled: boolean;
  conditions: RouteConditions;
  action: RouteActionName;
  actionData: object;
}

export async function insertRoute(db: Db, r: NewRoute): Promise<RouteRow> {
  const now = isoNow();
  const priority = r.priority ?? (await maxPriority(db, r.didId)) + 1;
  return db.insertInto('routes').values({
    name: r.name,
    did_id: r.didId,
    priority,
    conditions: JSON.stringify(r.conditions),
    action: r.action,
    action_data: JSON.stringify(r.actionData),
    enabled: r.enabled ? 1 : 0,
    created_at: now,
    updated_at: now,
  }).returningAll().executeTakeFirstOrThrow();
}

async function maxPriority(db: Db, didId: number): Promise<number> {
  const r = await db.selectFrom('routes').select((eb) => eb.fn.max('priority').as('p')).where('did_id', '=', didId).executeTakeFirst();
  return r?.p == null ? 0 : Number(r.p);
}

export interface RoutePatch {
  name?: string;
  didId?: number;
  priority?: number;
  enabled?: boolean;
  conditions?: RouteConditions;
  action?: RouteActionName;
  actionData?: object;
}

export async function updateRoute(db: Db, id: number, p: RoutePatch): Promise<RouteRow | undefined> {
  const set: Updateable<RoutesTable> = { updated_at: isoNow() };
  if (p.name !== undefined) set.name = p.name;
  if (p.didId !== undefined) set.did_id = p.didId;
  if (p.priority !== undefined) set.priority = p.priority;
  if (p.enabled !== undefined) set.enabled = p.enabled ? 1 : 0;
  if (p.conditions !== undefined) set.conditions = JSON.stringify(p.conditions);
  if (p.action !== undefined) set.action = p.action;
  if (p.actionData !== undefined) set.action_data = JSON.stringify(p.actionData);
  return db.updateTable('routes').set(set).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function findRouteById(db: Db, id: number): Promise<RouteRow | undefined> {
  return db.selectFrom('routes').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Routes in evaluation order (DID, priority, id); `didId` non-null keeps one DID's. */
export async function listRoutes(db: Db, didId: number | null, limit: number, offset: number): Promise<{ rows: RouteRow[]; total: number }> {
  let q = db.selectFrom('routes');
  if (didId !== null) q = q.where('did_id', '=', didId);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('did_id').orderBy('priority').orderBy('id').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** Every route of one DID (what the call engine evaluates for an inbound call). */
export async function routesForDid(db: Db, didId: number): Promise<Route[]> {
  const rows = await db.selectFrom('routes').selectAll().where('did_id', '=', didId).orderBy('priority').orderBy('id').execute();
  return rows.map(toRoute);
}

/** Ids and DIDs of all routes, for checking a reorder request. */
export async function routeOwners(db: Db): Promise<Array<{ id: number; did_id: number | null }>> {
  return db.selectFrom('routes').select(['id', 'did_id']).orderBy('id').execute();
}

/** Sets priorities 1..n in the order of `ids`; run it inside a transaction. */
export async function setRoutePriorities(db: Db, ids: readonly number[]): Promise<void> {
  const now = isoNow();
  for (let i = 0; i < ids.length; i++) {
    await db.updateTable('routes').set({ priority: i + 1, updated_at: now }).where('id', '=', ids[i]!).execute();
  }
}

export async function findRoutesByIds(db: Db, ids: readonly number[]): Promise<RouteRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('routes').selectAll().where('id', 'in', ids).execute();
}

export async function deleteRoute(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('routes').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
