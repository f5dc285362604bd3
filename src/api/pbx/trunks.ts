/**
 * `/api/trunks`: SIP trunks to carriers (beyond seed 003, which only has Twilio's). Reads:
 * any logged-in user; writes: admin.
 *
 * `password` is write-only (`has_password` tells whether one is set; null removes it).
 * `inbound_hosts` lists the addresses/CIDR blocks (IPv4 and IPv6) whose INVITEs are taken
 * as this trunk's without a digest challenge; they come back in canonical form (host bits
 * cleared, RFC 5952 IPv6 text). Setting `default` clears it on every other trunk in the
 * same transaction. Each committed write is announced as `pbx.trunk.changed` {id} on
 * `ctx.events` so the call engine reloads its trunk list.
 */
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { conflict, errorResponses, notFound, validationError, type FieldError } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import {
  defaultTrunkPort, deleteTrunk, findTrunkById, findTrunkByName, formatCidr, insertTrunk, listTrunks, parseCidr, toTrunk, updateTrunk,
  TRUNK_TRANSPORTS, type TrunkPatch, type TrunkTransport,
} from '../../store/trunks.ts';
import { formatIp, parseIp } from '../../store/trunk-match.ts';
import type { TrunkRow } from '../../store/schema.ts';
import { IdParams, Ok } from './schemas.ts';

// Null first: with Ajv's coerceTypes a string branch tried first would turn null into "".
const Nullable = <T extends TSchema>(t: T) => Type.Union([Type.Null(), t]);
const Transport = Type.Union(TRUNK_TRANSPORTS.map((t) => Type.Literal(t)), { description: 'udp | tcp | tls' });
const HostText = Type.String({ minLength: 1, maxLength: 255, description: 'Hostname, IPv4 or IPv6 address (brackets optional)', examples: ['sip.carrier.example'] });
/** Digest usernames travel as quoted-strings (RFC 3261 §25.1): no quotes, backslashes or controls. */
const DigestUsername = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\x00-\\x1f\\x7f"\\\\]+$', examples: ['acct-4821'] });
const DigestPassword = Type.String({ minLength: 1, maxLength: 256, examples: ['carrier-secret'] });
/** Shown in From headers: no control characters, quotes or angle brackets. */
const CallerId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\x00-\\x1f\\x7f"<>]+$', examples: ['+15551234567'] });
const InboundHosts = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  maxItems: 100, description: 'IPv4/IPv6 addresses or CIDR blocks whose INVITEs are accepted as this trunk without digest', examples: [['203.0.113.0/24', '2001:db8:10::/48']],
});

const TrunkSrtpPolicy = Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')], {
  description: 'SDES-SRTP of the media towards the carrier: off, optional (crypto offered on RTP/AVP, either accepted), required (RTP/SAVP only; plain offers get 488). Keys travel only over TLS signalling (transport tls) unless insecure signalling is allowed. Default: the default policy of PUT /api/system/srtp/config',
  examples: ['required'],
});

const TrunkSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  host: Type.String(),
  port: Type.Union([Type.Integer(), Type.Null()], { description: 'null: none given, the SRV records of host say (RFC 3263 §4.2)' }),
  transport: Type.Union([Transport, Type.Null()], { description: 'null: none given, the NAPTR records of host say (RFC 3263 §4.1)' }),
  username: Type.Union([Type.String(), Type.Null()]),
  has_password: Type.Boolean({ description: 'Whether a digest password is stored (it is never returned)' }),
  inbound_hosts: Type.Array(Type.String()),
  default: Type.Boolean({ description: 'The outbound trunk when no route names one; at most one trunk' }),
  enabled: Type.Boolean(),
  from_domain: Type.Union([Type.String(), Type.Null()], { description: 'Host part of From on outgoing INVITEs (default: the trunk host)' }),
  caller_id: Type.Union([Type.String(), Type.Null()], { description: 'Caller id presented when the call has none of its own' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  tls_verify: Type.Boolean({ description: 'TLS: verify the server certificate (system CAs + tls_ca, name = host); false skips it' }),
  tls_ca: Type.Union([Type.String(), Type.Null()], { description: 'TLS: PEM CA certificate(s) trusted for this trunk besides the system CAs' }),
  tls_fingerprint: Type.Union([Type.String(), Type.Null()], { description: 'TLS: pinned SHA-256 fingerprint of the server certificate (AA:BB:…); accepted whatever its chain' }),
  srtp: TrunkSrtpPolicy,
}, {
  examples: [{
    id: 1, name: 'Carrier A', host: 'sip.carrier.example', port: 5061, transport: 'tls', username: 'acct-4821', has_password: true,
    inbound_hosts: ['203.0.113.0/24'], default: true, enabled: true, from_domain: null, caller_id: '+15551234567',
    created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z', tls_verify: true, tls_ca: null, tls_fingerprint: null, srtp: 'off',
  }],
});

const trunkFields = {
  name: Type.String({ minLength: 1, maxLength: 100, examples: ['Carrier A'] }),
  host: HostText,
  port: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 5060, or 5061 with tls; null (the default when transport is null): look up SRV records' }))),
  transport: Type.Optional(Nullable(Transport)),
  username: Type.Optional(Nullable(DigestUsername)),
  password: Type.Optional(Nullable(DigestPassword)),
  inbound_hosts: Type.Optional(InboundHosts),
  default: Type.Optional(Type.Boolean()),
  enabled: Type.Optional(Type.Boolean()),
  from_domain: Type.Optional(Nullable(HostText)),
  caller_id: Type.Optional(Nullable(CallerId)),
  tls_verify: Type.Optional(Type.Boolean({ description: 'Default true' })),
  tls_ca: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 65536, description: 'PEM CA certificate(s)' }))),
  tls_fingerprint: Type.Optional(Nullable(Type.String({ pattern: '^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$', description: 'SHA-256, hex with or without colons', examples: ['5E:9A:…'] }))),
  srtp: Type.Optional(TrunkSrtpPolicy),
};
const CreateTrunk = Type.Object(trunkFields, {
  examples: [{ name: 'Carrier A', host: 'sip.carrier.example', transport: 'tls', username: 'acct-4821', password: 'carrier-secret', inbound_hosts: ['203.0.113.0/24'], default: true }],
});
const UpdateTrunk = Type.Partial(Type.Object(trunkFields), { examples: [{ enabled: false }, { password: null }] });

const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A host as stored: IP addresses in canonical text without brackets, hostnames lowercased
 * (RFC 1123 §2.1 labels; an all-numeric last label would be a mistyped IPv4 address).
 */
function normalizeHost(text: string): string | undefined {
  const bracketed = text.startsWith('[') && text.endsWith(']');
  const inner = bracketed ? text.slice(1, -1) : text;
  if (isIP(inner) !== 0) {
    const ip = parseIp(inner);
    return ip && (!bracketed || ip.family === 6 || inner.includes(':')) ? formatIp(ip) : undefined;
  }
  if (bracketed) return undefined;
  const host = inner.toLowerCase().replace(/\.$/, '');
  if (host.length === 0 || host.length > 253) return undefined;
  const labels = host.split('.');
  if (!labels.every((l) => HOSTNAME_LABEL.test(l))) return undefined;
  return /^\d+$/.test(labels[labels.length - 1]!) ? undefined : host;
}

/** Canonical, de-duplicated blocks; one error per entry that is not an address or CIDR. */
function normalizeInboundHosts(list: string[], errors: FieldError[]): string[] {
  const out: string[] = [];
  list.forEach((entry, i) => {
    const block = parseCidr(entry.trim());
    if (!block) {
      errors.push({ field: `inbound_hosts.${i}`, message: 'must be an IPv4 or IPv6 address or CIDR block' });
      return;
    }
    const text = formatCidr(block);
    if (!out.includes(text)) out.push(text);
  });
  return out;
}

type TrunkBody = Static<typeof UpdateTrunk>;

/**
 * The body as a store patch, validated and normalised. On update, `current` is the stored row:
 * a port left at its transport's default follows a transport change (udp:5060 → tls:5061).
 */
function toPatch(b: TrunkBody, current: TrunkRow | undefined): TrunkPatch {
  const errors: FieldError[] = [];
  const p: TrunkPatch = {};
  if (b.name !== undefined) p.name = b.name;
  if (b.host !== undefined) {
    const host = normalizeHost(b.host);
    if (host === undefined) errors.push({ field: 'host', message: 'must be a hostname or an IPv4/IPv6 address' });
    else p.host = host;
  }
  if (b.from_domain !== undefined) {
    const domain = b.from_domain === null ? null : normalizeHost(b.from_domain);
    if (domain === undefined) errors.push({ field: 'from_domain', message: 'must be a hostname or an IPv4/IPv6 address' });
    else p.fromDomain = domain;
  }
  if (b.inbound_hosts !== undefined) p.inboundHosts = normalizeInboundHosts(b.inbound_hosts, errors);
  if (b.transport !== undefined) p.transport = b.transport;
  const portFor = (t: TrunkTransport | null) => (t === null ? null : defaultTrunkPort(t));
  if (b.port !== undefined) p.port = b.port;
  else if (!current) p.port = portFor(b.transport === undefined ? 'udp' : b.transport);
  else if (b.transport !== undefined && current.transport !== 'auto' && current.port === defaultTrunkPort(current.transport)) p.port = portFor(b.transport);
  if (b.tls_verify !== undefined) p.tlsVerify = b.tls_verify;
  if (b.tls_ca !== undefined) {
    if (b.tls_ca !== null && !isPemCa(b.tls_ca)) errors.push({ field: 'tls_ca', message: 'must be one or more PEM certificates' });
    else p.tlsCa = b.tls_ca;
  }
  if (b.srtp !== undefined) p.srtp = b.srtp;
  if (b.tls_fingerprint !== undefined) p.tlsFingerprint = b.tls_fingerprint === null ? null : formatFingerprint(b.tls_fingerprint);
  if (b.username !== undefined) p.username = b.username;
  if (b.password !== undefined) p.password = b.password;
  const username = b.username !== undefined ? b.username : (current?.username ?? null);
  const hasPassword = b.password !== undefined ? b.password !== null : (current?.password_enc ?? null) !== null;
  if (hasPassword && username === null) errors.push({ field: 'username', message: 'is required when a password is set' });
  if (b.default !== undefined) p.isDefault = b.default;
  if (b.enabled !== undefined) p.enabled = b.enabled;
  if (b.caller_id !== undefined) p.callerId = b.caller_id;
  if (errors.length > 0) throw validationError(errors);
  return p;
}

/** PEM text holding at least one certificate Node's TLS accepts as a CA. */
function isPemCa(pem: string): boolean {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return false;
  try {
    createSecureContext({ ca: pem });
    return true;
  } catch {
    return false;
  }
}

/** `5e9a…` or `5E:9A:…` → `5E:9A:…`, the form Node's `fingerprint256` has. */
function formatFingerprint(text: string): string {
  return text.replace(/:/g, '').toUpperCase().match(/../g)!.join(':');
}

const nameTaken = () => conflict('A trunk with this name already exists', [{ field: 'name', message: 'already exists' }]);

export async function trunksRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const admin = { auth: 'admin' as const };
  const tags = ['trunks'];
  const changed = (id: number) => ctx.events.emit('pbx.trunk.changed', { id });

  app.get('/trunks', {
    schema: { tags, summary: 'List SIP trunks (any logged-in user; passwords are never returned)', querystring: PaginationQuery, response: { 200: ListOf(TrunkSchema), ...errorResponses(400, 401) } },
  }, async (req) => {
    const { rows, total } = await listTrunks(db, req.query.limit, req.query.offset);
    return page(rows.map(toTrunk), total, req.query);
  });

  app.post('/trunks', {
    config: admin,
    schema: {
      tags, summary: 'Create a SIP trunk (admin). Port defaults to 5060 (5061 with tls), transport to udp; `default: true` clears the other default',
      body: CreateTrunk, response: { 201: TrunkSchema, ...errorResponses(400, 401, 403, 409) },
    },
  }, async (req, reply) => {
    const p = toPatch(req.body, undefined);
    const row = await insertTrunk(db, ctx.box, {
      name: req.body.name, host: p.host!, port: p.port!, transport: p.transport === undefined ? 'udp' : p.transport,
      username: p.username ?? null, password: p.password ?? null, inboundHosts: p.inboundHosts ?? [],
      isDefault: p.isDefault ?? false, enabled: p.enabled ?? true, fromDomain: p.fromDomain ?? null, callerId: p.callerId ?? null,
      tlsVerify: p.tlsVerify ?? true, tlsCa: p.tlsCa ?? null, tlsFingerprint: p.tlsFingerprint ?? null,
      srtp: p.srtp ?? ctx.srtp?.current.defaultPolicy ?? 'off',
    });
    if (!row) throw nameTaken();
    changed(row.id);
    return reply.status(201).send(toTrunk(row));
  });

  app.get('/trunks/:id', {
    schema: { tags, summary: 'Get a SIP trunk', params: IdParams, response: { 200: TrunkSchema, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const row = await findTrunkById(db, req.params.id);
    if (!row) throw notFound('Trunk');
    return toTrunk(row);
  });

  app.put('/trunks/:id', {
    config: admin,
    schema: {
      tags, summary: 'Update a SIP trunk (admin): fields given are changed; null clears username, password, from_domain, caller_id',
      params: IdParams, body: UpdateTrunk, response: { 200: TrunkSchema, ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const row = await db.transaction().execute(async (tx) => {
      const current = await findTrunkById(tx, req.params.id);
      if (!current) throw notFound('Trunk');
      const p = toPatch(req.body, current);
      if (p.name !== undefined && p.name !== current.name && (await findTrunkByName(tx, p.name))) throw nameTaken();
      return updateTrunk(tx, ctx.box, current.id, p);
    });
    if (!row) throw notFound('Trunk');
    changed(row.id);
    return toTrunk(row);
  });

  app.delete('/trunks/:id', {
    config: admin,
    schema: { tags, summary: 'Delete a SIP trunk (admin). Its CDRs keep the trunk id', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    if (!(await deleteTrunk(db, req.params.id))) throw notFound('Trunk');
    changed(req.params.id);
    return { success: true };
  });
}
