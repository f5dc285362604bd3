/**
 * The pure part of a registrar (RFC 3261 §10.3 steps 6–8, RFC 5626 §6): given the current
 * bindings of an address-of-record and one REGISTER, decide the new bindings or the error.
 * No I/O, no clock: the caller passes `now` and persists what this returns.
 */
import type { Binding } from '../store/registrations.ts';
import type { SendTarget, TransportProtocol } from '../sip/transport-types.ts';

export type { Binding };

export interface ContactSpec {
  uri: string;
  contact: string;
  /** `expires` contact parameter, when present. */
  expires: number | null;
  q: number | null;
  instanceId: string | null;
  regId: number | null;
}

export interface RegisterInput {
  aor: string;
  deviceId: number;
  contacts: ContactSpec[] | '*' | null;
  expiresHeader: number | null;
  callId: string;
  cseq: number;
  transport: string;
  sourceIp: string;
  sourcePort: number;
  localPort: number | null;
  connectionId: number | null;
  userAgent: string | null;
}

export interface ExpiryPolicy {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  maxContacts: number;
}

export const DEFAULT_EXPIRY_POLICY: ExpiryPolicy = { minExpires: 60, maxExpires: 7200, defaultExpires: 3600, maxContacts: 10 };

export type RegisterOutcome =
  | { ok: true; bindings: Binding[]; upserts: Binding[]; removals: Binding[] }
  | { ok: false; status: number; reason: string; minExpires?: number };

export function bindingKey(c: Pick<ContactSpec, 'uri' | 'instanceId' | 'regId'>): string {
  if (c.instanceId) return c.regId !== null ? `${c.instanceId};reg-id=${c.regId}` : c.instanceId;
  return c.uri;
}

/** Whether this REGISTER may change an existing binding (§10.3 step 6/7 Call-ID and CSeq rule). */
function inOrder(b: Binding, input: RegisterInput): boolean {
  return b.callId !== input.callId || input.cseq > b.cseq;
}

const outOfOrder = { ok: false as const, status: 500, reason: 'Out Of Order REGISTER' };

export function applyRegister(existing: readonly Binding[], input: RegisterInput, now: number, policy: ExpiryPolicy = DEFAULT_EXPIRY_POLICY): RegisterOutcome {
  const live = existing.filter((b) => b.expiresAt > now);

  if (input.contacts === null) return { ok: true, bindings: live, upserts: [], removals: [] }; // a query (§10.3 step 8)

  if (input.contacts === '*') {
    // §10.3 step 6: "*" only with Expires: 0 and no other Contact.
    if (input.expiresHeader !== 0) return { ok: false, status: 400, reason: 'Wildcard Contact Requires Expires: 0' };
    if (live.some((b) => !inOrder(b, input))) return outOfOrder;
    return { ok: true, bindings: [], upserts: [], removals: live };
  }

  const byKey = new Map(live.map((b) => [b.key, b]));
  const upserts: Binding[] = [];
  const removals: Binding[] = [];
  for (const c of input.contacts) {
    let expires = c.expires ?? input.expiresHeader ?? policy.defaultExpires;
    if (expires !== 0 && expires < policy.minExpires) {
      return { ok: false, status: 423, reason: 'Interval Too Brief', minExpires: policy.minExpires };
    }
    expires = Math.min(expires, policy.maxExpires);
    const key = bindingKey(c);
    const old = byKey.get(key);
    if (old && !inOrder(old, input)) return outOfOrder;
    if (expires === 0) {
      if (old) { removals.push(old); byKey.delete(key); }
      continue;
    }
    // A refresh keeps the previous binding's strings where they are equal: the new copies then
    // die young instead of being promoted with the binding, which lives until the next refresh.
    const b: Binding = {
      aor: same(old?.aor, input.aor), deviceId: input.deviceId, key: same(old?.key, key),
      contactUri: same(old?.contactUri, c.uri), contact: same(old?.contact, c.contact),
      q: c.q ?? 1, expiresAt: now + expires * 1000, instanceId: same(old?.instanceId, c.instanceId), regId: c.regId,
      callId: same(old?.callId, input.callId), cseq: input.cseq, transport: same(old?.transport, input.transport),
      sourceIp: same(old?.sourceIp, input.sourceIp), sourcePort: input.sourcePort, localPort: input.localPort,
      connectionId: input.connectionId, userAgent: same(old?.userAgent, input.userAgent),
      createdAt: old?.createdAt ?? now, updatedAt: now,
    };
    byKey.set(key, b);
    upserts.push(b);
  }
  if (byKey.size > policy.maxContacts) return { ok: false, status: 403, reason: 'Too Many Contacts' };
  // Highest q first (RFC 3261 §16.6 target ordering), newest first among equals.
  const bindings = [...byKey.values()].sort((a, b) => b.q - a.q || b.updatedAt - a.updatedAt);
  return { ok: true, bindings, upserts, removals };
}

/** `prev` when it equals `next` (the older string object), else `next`. */
function same<T extends string | null>(prev: T | undefined, next: T): T {
  return prev === next ? prev : next;
}

/**
 * Where requests to a registered contact go: the address the REGISTER came from, over its
 * flow while that is open (NAT-safe; DESIGN "Responses go back to the request's source").
 */
export function bindingTarget(b: Binding): SendTarget {
  return { protocol: b.transport as TransportProtocol, address: b.sourceIp, port: b.sourcePort, connectionId: b.connectionId ?? undefined, localPort: b.localPort ?? undefined };
}
