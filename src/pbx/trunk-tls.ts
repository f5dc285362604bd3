/**
 * TLS for trunks (seed 003's /api/system/trunks/tls/*): the rules of "enable", "migrate" and
 * "create" for a generic trunk of ours and for a Twilio Elastic SIP trunk, each returning the
 * list of what changed (field, before, after) so the API can report it.
 *
 * - enable: secure trunking — a generic trunk is dialled over TLS (5061 when its port was the
 *   default) with SRTP required; a Twilio trunk gets Secure Trunking (Twilio then insists on
 *   TLS signalling and SRTP media for its calls).
 * - migrate: signalling only — a generic trunk moves to TLS, keeping its SRTP policy; a Twilio
 *   trunk's origination URLs (Twilio → us) become `sip:<host>:<our TLS port>;transport=tls`.
 */
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { defaultTrunkPort, findTrunkById, toTrunk, updateTrunk, type Trunk, type TrunkPatch } from '../store/trunks.ts';
import type { TwilioRest, TwilioSipTrunk } from '../integrations/twilio/rest-client.ts';

export interface Change {
  target: 'trunk' | 'twilio_trunk' | 'twilio_origination_url';
  id: string;
  field: string;
  before: unknown;
  after: unknown;
}

/** `sips:` or `;transport=tls` (RFC 3261 §19.1.2, §26.2.2). */
export function isTlsSipUrl(url: string): boolean {
  return /^sips:/i.test(url) || /;transport=tls(?=;|$|\?)/i.test(url);
}

/** `sip:host[:port][;params]` → `sip:host:port;transport=tls` with the other parameters kept; null when not a sip: URI. */
export function tlsSipUrl(url: string, port: number): string | null {
  const m = /^sips?:([^;?]+)([^?]*)(.*)$/i.exec(url.trim());
  if (!m) return null;
  const hostPort = m[1]!;
  const host = hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.split(':')[0]!;
  if (host === '') return null;
  const params = m[2]!.replace(/;transport=[^;]*/gi, '');
  return `sip:${host}:${port}${params};transport=tls${m[3]}`;
}

/** Generic trunk: TLS signalling (and, with `srtp`, SRTP required). Undefined when no such trunk. */
export async function secureGenericTrunk(db: Db, box: SecretBox, id: number, srtp: boolean): Promise<{ trunk: Trunk; changes: Change[] } | undefined> {
  const row = await findTrunkById(db, id);
  if (!row) return undefined;
  const before = toTrunk(row);
  const patch: TrunkPatch = {};
  if (before.transport !== 'tls') {
    patch.transport = 'tls';
    if (before.port === null || before.port === defaultTrunkPort(before.transport ?? 'udp')) patch.port = defaultTrunkPort('tls');
  }
  if (srtp && before.srtp !== 'required') patch.srtp = 'required';
  const after = Object.keys(patch).length > 0 ? toTrunk((await updateTrunk(db, box, id, patch))!) : before;
  const changes: Change[] = [];
  for (const field of ['transport', 'port', 'srtp'] as const) {
    if (before[field] !== after[field]) changes.push({ target: 'trunk', id: String(id), field, before: before[field], after: after[field] });
  }
  return { trunk: after, changes };
}

/** Twilio trunk: Secure Trunking on. */
export async function secureTwilioTrunk(rest: TwilioRest, trunk: TwilioSipTrunk): Promise<Change[]> {
  if (trunk.secure) return [];
  await rest.setSipTrunkSecure(trunk.sid, true);
  return [{ target: 'twilio_trunk', id: trunk.sid, field: 'secure', before: false, after: true }];
}

/** Twilio trunk: every origination URL that is not TLS yet, to our TLS port. */
export async function migrateTwilioOrigination(rest: TwilioRest, trunk: TwilioSipTrunk, tlsPort: number): Promise<Change[]> {
  const changes: Change[] = [];
  for (const u of trunk.originationUrls) {
    if (isTlsSipUrl(u.sipUrl)) continue;
    const next = tlsSipUrl(u.sipUrl, tlsPort);
    if (next === null) continue;
    await rest.setOriginationUrl(trunk.sid, u.sid, next);
    changes.push({ target: 'twilio_origination_url', id: u.sid, field: 'sip_url', before: u.sipUrl, after: next });
  }
  return changes;
}
