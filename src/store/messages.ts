/**
 * SMS/MMS messages: what the API lists and the webhooks store. The send queue over the same
 * table is `message-outbox.ts`.
 */
import { sql } from 'kysely';
import type { MessageRow } from './schema.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

export const MESSAGE_DIRECTIONS = ['inbound', 'outbound'] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

/** Statuses a message may be resent from. */
export const RESENDABLE_STATUSES: readonly string[] = ['failed', 'undelivered'];

export interface Message {
  id: number;
  direction: MessageDirection;
  did_id: number | null;
  from: string;
  to: string;
  body: string;
  media_urls: string[];
  status: string;
  twilio_sid: string | null;
  error_code: number | null;
  error_message: string | null;
  read: boolean;
  attempts: number;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
  delivered_at: string | null;
}

export function toMessage(r: MessageRow): Message {
  return {
    id: r.id, direction: r.direction, did_id: r.did_id, from: r.from_number, to: r.to_number, body: r.body,
    media_urls: JSON.parse(r.media_urls) as string[], status: r.status, twilio_sid: r.twilio_sid,
    error_code: r.error_code, error_message: r.error_message, read: r.read === 1, attempts: r.attempts,
    created_at: r.created_at, updated_at: r.updated_at, sent_at: r.sent_at, delivered_at: r.delivered_at,
  };
}

export interface NewOutboundMessage {
  didId: number;
  didNumber: string;
  to: string;
  body: string;
  mediaUrls: string[];
  userId: number | null;
}

/** Queues an outbound message: the sender picks it up at once (`next_attempt_at` = now). */
export async function insertOutboundMessage(db: Db, m: NewOutboundMessage): Promise<MessageRow> {
  const now = isoNow();
  return db.insertInto('messages').values({
    direction: 'outbound', did_id: m.didId, did_number: m.didNumber, from_number: m.didNumber, to_number: m.to,
    peer_number: m.to, body: m.body, media_urls: JSON.stringify(m.mediaUrls), status: 'queued', read: 1,
    attempts: 0, next_attempt_at: now, user_id: m.userId, created_at: now, updated_at: now,
  }).returningAll().executeTakeFirstOrThrow();
}

export interface NewInboundMessage {
  twilioSid: string;
  didId: number | null;
  from: string;
  to: string;
  body: string;
  mediaUrls: string[];
  status: string;
}

/** Stores an inbound message once per MessageSid: undefined when it was stored already (a Twilio retry). */
export async function insertInboundMessage(db: Db, m: NewInboundMessage): Promise<MessageRow | undefined> {
  const now = isoNow();
  return db.insertInto('messages').values({
    direction: 'inbound', did_id: m.didId, did_number: m.to, from_number: m.from, to_number: m.to, peer_number: m.from,
    body: m.body, media_urls: JSON.stringify(m.mediaUrls), status: m.status, twilio_sid: m.twilioSid, read: 0,
    attempts: 0, created_at: now, updated_at: now,
  }).onConflict((oc) => oc.column('twilio_sid').doNothing()).returningAll().executeTakeFirst();
}

export async function findMessageById(db: Db, id: number): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface MessageFilters {
  limit: number;
  offset: number;
  direction?: MessageDirection;
  read?: boolean;
  peer?: string;
}

/** Newest first. */
export async function listMessages(db: Db, f: MessageFilters): Promise<{ rows: MessageRow[]; total: number }> {
  let q = db.selectFrom('messages');
  if (f.direction !== undefined) q = q.where('direction', '=', f.direction);
  if (f.read !== undefined) q = q.where('read', '=', f.read ? 1 : 0);
  if (f.peer !== undefined) q = q.where('peer_number', '=', f.peer);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function countUnread(db: Db): Promise<number> {
  const r = await db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('read', '=', 0).executeTakeFirstOrThrow();
  return Number(r.n);
}

export interface MessageStats {
  total: number;
  inbound: number;
  outbound: number;
  unread: number;
  by_status: Record<string, number>;
}

export async function messageStats(db: Db): Promise<MessageStats> {
  const rows = await db.selectFrom('messages')
    .select(['direction', 'status', 'read', (eb) => eb.fn.countAll().as('n')])
    .groupBy(['direction', 'status', 'read']).execute();
  const out: MessageStats = { total: 0, inbound: 0, outbound: 0, unread: 0, by_status: {} };
  for (const r of rows) {
    const n = Number(r.n);
    out.total += n;
    out[r.direction] += n;
    if (r.read === 0) out.unread += n;
    out.by_status[r.status] = (out.by_status[r.status] ?? 0) + n;
  }
  return out;
}

export interface ConversationRow {
  number: string;
  message_count: number;
  unread_count: number;
  last: MessageRow;
}

/** One entry per other party, the most recent conversation first. */
export async function listConversations(db: Db, limit: number, offset: number): Promise<{ rows: ConversationRow[]; total: number }> {
  const groups = db.selectFrom('messages')
    .select(['peer_number', (eb) => eb.fn.countAll().as('n'), (eb) => eb.fn.max('id').as('last_id'),
      sql<number>`sum(case when ${sql.ref('read')} = 0 then 1 else 0 end)`.as('unread')])
    .groupBy('peer_number');
  const [page, count] = await Promise.all([
    groups.orderBy('last_id', 'desc').limit(limit).offset(offset).execute(),
    db.selectFrom('messages').select((eb) => eb.fn.count('peer_number').distinct().as('n')).executeTakeFirstOrThrow(),
  ]);
  const ids = page.map((g) => Number(g.last_id));
  const lasts = ids.length ? await db.selectFrom('messages').selectAll().where('id', 'in', ids).execute() : [];
  const byId = new Map(lasts.map((r) => [r.id, r]));
  return {
    rows: page.map((g) => ({ number: g.peer_number, message_count: Number(g.n), unread_count: Number(g.unread), last: byId.get(Number(g.last_id))! })),
    total: Number(count.n),
  };
}

export async function markMessageRead(db: Db, id: number): Promise<MessageRow | undefined> {
  return db.updateTable('messages').set({ read: 1, updated_at: isoNow() }).where('id', '=', id).returningAll().executeTakeFirst();
}

/** Marks every unread message with this party read; returns how many changed. */
export async function markConversationRead(db: Db, peer: string): Promise<number> {
  const r = await db.updateTable('messages').set({ read: 1, updated_at: isoNow() })
    .where('peer_number', '=', peer).where('read', '=', 0).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function deleteMessage(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('messages').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
