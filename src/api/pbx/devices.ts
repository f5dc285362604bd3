/**
 * `/api/devices` (seed 003): SIP accounts.
 *
 * Visibility: an admin sees and manages every device; a user sees, creates, updates and
 * deletes only the devices they own (`user_id`), and another user's device is "not found"
 * to them (no probing of ids). Only an admin may give a device to someone else (`user_id`)
 * or set its `caller_id`: that is the identity trunks present to the outside world.
 *
 * The SIP password is write-only. Changes are committed first, then announced on
 * `ctx.events` as `pbx.device.changed` {id, username, previous_username?} or `pbx.device.deleted`
 * {id, username}, so the registrar can drop stale registrations and cached HA1s.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { conflict, errorResponses, forbidden, notFound, validationError } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { currentUser } from '../shared/auth.ts';
import type { User } from '../../store/users.ts';
import { findUserById } from '../../store/users.ts';
import {
  deleteDevice, findDeviceById, findDeviceByUsername, insertDevice, listDevices, toDevice, updateDevice, type DevicePatch,
} from '../../store/devices.ts';
import { insertDeviceEvent, listDeviceEvents, toDeviceEvent } from '../../store/device-events.ts';
import type { DeviceRow } from '../../store/schema.ts';
import { Email, IdParams, Ok } from './schemas.ts';
import type { Db } from '../../store/db.ts';

/** RFC 3261 §25.1 `user`: unreserved / user-unreserved characters (escapes not accepted). */
const SipUsername = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9\\-_.!~*'()&=+$,;?/]+$", examples: ['1001'] });
const SipPassword = Type.String({ minLength: 8, maxLength: 128, examples: ['secure-password'] });
const Vendor = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$', examples: ['grandstream'] });
/** Shown in From headers: no control characters, quotes or angle brackets. */
const CallerId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\x00-\\x1f\\x7f"<>]+$', examples: ['+15551234567'] });
/** Which digest challenge the device is sent (issue 12; README "Digest and real phones"). */
const DigestAlgorithmField = Type.Union([Type.Literal('MD5'), Type.Literal('SHA-256'), Type.Literal('both')], {
  description: 'Digest challenge sent to this device: MD5 (default; every phone knows it), SHA-256 (RFC 8760), or both '
    + '(one challenge per algorithm, in the order of STROWGER_SIP_DIGEST_ALGORITHMS) for phones known to handle several',
  examples: ['MD5'],
});
// Null first: with Ajv's coerceTypes a string branch tried first would turn null into "".
const Nullable = <T extends TSchema>(t: T) => Type.Union([Type.Null(), t]);

const SrtpPolicyField = Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')], {
  description: 'SDES-SRTP of the media towards the device: off (plain RTP), optional (crypto offered on RTP/AVP, either accepted), required (RTP/SAVP only; plain offers get 488). Keys travel only over TLS signalling unless STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING=1',
  examples: ['off'],
});

const DeviceSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  username: Type.String({ description: 'SIP user (digest username and AOR user part)' }),
  type: Type.String({ description: 'Vendor' }),
  device_type: Type.String({ description: 'Same as type' }),
  user_id: Type.Union([Type.Integer(), Type.Null()], { description: 'Owner' }),
  caller_id: Type.Union([Type.String(), Type.Null()]),
  dnd_enabled: Type.Boolean(),
  digest_algorithm: DigestAlgorithmField,
  voicemail_enabled: Type.Boolean({ description: 'Busy, unanswered or unregistered calls to the device go to its mailbox' }),
  voicemail_email: Type.Union([Type.String(), Type.Null()], { description: 'Where its new voicemails are mailed (null: system setting voicemail_email)' }),
  mwi_unsolicited: Type.Boolean({ description: 'Message-waiting NOTIFYs without a subscription, to every registered contact (phones set for unsolicited MWI)' }),
  srtp: SrtpPolicyField,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
}, { examples: [{ id: 1, name: 'Office Phone', username: '1001', type: 'grandstream', device_type: 'grandstream', user_id: 1, caller_id: null, dnd_enabled: false, digest_algorithm: 'MD5', voicemail_enabled: false, voicemail_email: null, mwi_unsolicited: false, srtp: 'off', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }] });

export const DeviceEventSchema = Type.Object({
  id: Type.Integer(),
  device_id: Type.Union([Type.Integer(), Type.Null()]),
  category: Type.String({ examples: ['provisioning'], description: 'provisioning | registration | auth' }),
  type: Type.String({ examples: ['created'] }),
  detail: Type.String(),
  source_ip: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

const CreateDevice = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  username: SipUsername,
  password: SipPassword,
  type: Type.Optional(Vendor),
  device_type: Type.Optional(Vendor),
  caller_id: Type.Optional(Nullable(CallerId)),
  user_id: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
  dnd_enabled: Type.Optional(Type.Boolean()),
  digest_algorithm: Type.Optional(DigestAlgorithmField),
  voicemail_enabled: Type.Optional(Type.Boolean()),
  voicemail_email: Type.Optional(Nullable(Email)),
  mwi_unsolicited: Type.Optional(Type.Boolean()),
  srtp: Type.Optional(SrtpPolicyField),
}, { examples: [{ name: 'Office Phone', username: '1001', password: 'secure-password', type: 'grandstream' }] });

const UpdateDevice = Type.Partial(CreateDevice, { examples: [{ name: 'Updated Name' }] });

type DeviceBody = { type?: string; device_type?: string; user_id?: number | null; caller_id?: string | null };

/** `type` and `device_type` name the same field: one value, or both equal. */
function vendorOf(body: DeviceBody): string | undefined {
  if (body.type !== undefined && body.device_type !== undefined && body.type !== body.device_type) {
    throw validationError([{ field: 'device_type', message: 'must equal type (they are aliases)' }]);
  }
  return body.type ?? body.device_type;
}

/** Admin-only fields, and that the owner named exists. */
async function checkOwnership(db: Db, user: User, body: DeviceBody): Promise<void> {
  if (user.role !== 'admin') {
    if (body.user_id !== undefined && body.user_id !== user.id) throw forbidden('Only an admin can assign a device to another user');
    if (body.caller_id !== undefined) throw forbidden('Only an admin can set caller_id');
  }
  if (body.user_id != null && !(await findUserById(db, body.user_id))) {
    throw validationError([{ field: 'user_id', message: 'no such user' }]);
  }
}

const usernameTaken = () => conflict('A device with this username already exists', [{ field: 'username', message: 'already exists' }]);

/**
 * The device `id` as `user` may see it: an admin sees all, a user only their own;
 * anything else is 404.
 */
export async function visibleDevice(db: Db, user: User, id: number): Promise<DeviceRow> {
  const row = await findDeviceById(db, id);
  if (!row || (user.role !== 'admin' && row.user_id !== user.id)) throw notFound('Device');
  return row;
}

function changedFields(patch: DevicePatch): string {
  const names: Record<keyof DevicePatch, string> = {
    name: 'name', username: 'username', password: 'password', type: 'type', userId: 'user_id', callerId: 'caller_id', dndEnabled: 'dnd_enabled', digestAlgorithm: 'digest_algorithm',
    voicemailEnabled: 'voicemail_enabled', voicemailEmail: 'voicemail_email', mwiUnsolicited: 'mwi_unsolicited', srtp: 'srtp',
  };
  return (Object.keys(patch) as Array<keyof DevicePatch>).map((k) => names[k]).join(', ');
}

export async function devicesRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const tags = ['devices'];
  const event = (req: FastifyRequest, deviceId: number, type: string, detail: string) =>
    ({ deviceId, category: 'provisioning', type, detail: `${detail} by ${currentUser(req).email}`, sourceIp: req.ip });

  // The page serialized by the response schema (byte for byte what Fastify would send) and
  // UTF-8 encoded, so a repeated list costs no query, serialization or encoding: on SQLite it
  // is kept until the next write to the database, whoever makes it (see ReadCache).
  const listBody = async (q: { ownerId: number | null; limit: number; offset: number; reply: FastifyReply }) => {
    const { rows, total } = await listDevices(db, q.ownerId, q.limit, q.offset);
    return Buffer.from(q.reply.serialize(page(rows.map(toDevice), total, q)) as string);
  };

  app.get('/devices', {
    schema: { tags, summary: 'List devices (admins: all; users: their own)', querystring: PaginationQuery, response: { 200: ListOf(DeviceSchema), ...errorResponses(400, 401) } },
  }, (req, reply) => {
    const user = currentUser(req);
    const q = { ownerId: user.role === 'admin' ? null : user.id, limit: req.query.limit, offset: req.query.offset, reply };
    const cache = ctx.store.readCache;
    // A Buffer with a JSON content type is sent as is (the typed reply only knows the object shape).
    const send = (json: Buffer) => { (reply as FastifyReply).type('application/json; charset=utf-8').send(json); };
    if (!cache) return listBody(q).then(send);
    const key = `devices:list:${q.ownerId}:${q.limit}:${q.offset}`;
    // A page already read in this generation goes out in this tick (no promise to await).
    const hit = cache.peek<Buffer>(key);
    if (hit === undefined) return cache.get(key, listBody, q).then(send);
    send(hit);
    return undefined;
  });

  app.post('/devices', {
    schema: {
      tags, summary: 'Create a device. `type` and `device_type` are aliases (default "generic"); the password is write-only. Users create devices they own; user_id and caller_id are admin-only',
      body: CreateDevice, response: { 201: DeviceSchema, ...errorResponses(400, 401, 403, 409) },
    },
  }, async (req, reply) => {
    const user = currentUser(req);
    const b = req.body;
    const type = vendorOf(b) ?? 'generic';
    const row = await db.transaction().execute(async (tx) => {
      await checkOwnership(tx, user, b);
      const inserted = await insertDevice(tx, ctx.box, {
        name: b.name, username: b.username, password: b.password, type,
        userId: b.user_id !== undefined ? b.user_id : user.id,
        callerId: b.caller_id ?? null, dndEnabled: b.dnd_enabled ?? false, digestAlgorithm: b.digest_algorithm ?? 'MD5',
        voicemailEnabled: b.voicemail_enabled ?? false, voicemailEmail: b.voicemail_email ?? null, mwiUnsolicited: b.mwi_unsolicited ?? false, srtp: b.srtp ?? ctx.srtp?.current.defaultPolicy ?? 'off',
      });
      if (!inserted) throw usernameTaken();
      await insertDeviceEvent(tx, event(req, inserted.id, 'created', `Device "${inserted.username}" created`));
      return inserted;
    });
    ctx.events.emit('pbx.device.changed', { id: row.id, username: row.username });
    return reply.status(201).send(toDevice(row));
  });

  app.get('/devices/:id', {
    schema: { tags, summary: 'Get a device', params: IdParams, response: { 200: DeviceSchema, ...errorResponses(400, 401, 404) } },
  }, async (req) => toDevice(await visibleDevice(db, currentUser(req), req.params.id)));

  app.put('/devices/:id', {
    schema: {
      tags, summary: 'Update a device (fields given are changed; null clears caller_id / user_id)',
      params: IdParams, body: UpdateDevice, response: { 200: DeviceSchema, ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const user = currentUser(req);
    const b = req.body;
    const type = vendorOf(b);
    const { before, after } = await db.transaction().execute(async (tx) => {
      const row = await visibleDevice(tx, user, req.params.id);
      await checkOwnership(tx, user, b);
      const patch: DevicePatch = {};
      if (b.name !== undefined) patch.name = b.name;
      if (b.username !== undefined && b.username !== row.username) {
        if (await findDeviceByUsername(tx, b.username)) throw usernameTaken();
        patch.username = b.username;
      }
      if (b.password !== undefined) patch.password = b.password;
      if (type !== undefined) patch.type = type;
      if (b.user_id !== undefined) patch.userId = b.user_id;
      if (b.caller_id !== undefined) patch.callerId = b.caller_id;
      if (b.dnd_enabled !== undefined) patch.dndEnabled = b.dnd_enabled;
      if (b.digest_algorithm !== undefined) patch.digestAlgorithm = b.digest_algorithm;
      if (b.voicemail_enabled !== undefined) patch.voicemailEnabled = b.voicemail_enabled;
      if (b.voicemail_email !== undefined) patch.voicemailEmail = b.voicemail_email;
      if (b.mwi_unsolicited !== undefined) patch.mwiUnsolicited = b.mwi_unsolicited;
      if (b.srtp !== undefined) patch.srtp = b.srtp;
      const updated = await updateDevice(tx, ctx.box, row.id, patch);
      if (!updated) throw notFound('Device');
      if (Object.keys(patch).length > 0) await insertDeviceEvent(tx, event(req, row.id, 'updated', `Updated ${changedFields(patch)}`));
      return { before: row, after: updated };
    });
    ctx.events.emit('pbx.device.changed', before.username === after.username
      ? { id: after.id, username: after.username }
      : { id: after.id, username: after.username, previous_username: before.username });
    return toDevice(after);
  });

  app.delete('/devices/:id', {
    schema: { tags, summary: 'Delete a device (its events go with it)', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const user = currentUser(req);
    const row = await db.transaction().execute(async (tx) => {
      const r = await visibleDevice(tx, user, req.params.id);
      await deleteDevice(tx, r.id);
      return r;
    });
    ctx.events.emit('pbx.device.deleted', { id: row.id, username: row.username });
    return { success: true };
  });

  app.get('/devices/:id/events', {
    schema: {
      tags, summary: 'Events of a device, newest first: provisioning changes, registrations, authentication failures',
      params: IdParams, querystring: PaginationQuery, response: { 200: ListOf(DeviceEventSchema), ...errorResponses(400, 401, 404) },
    },
  }, async (req) => {
    const row = await visibleDevice(db, currentUser(req), req.params.id);
    const { rows, total } = await listDeviceEvents(db, row.id, req.query.limit, req.query.offset);
    return page(rows.map(toDeviceEvent), total, req.query);
  });
}
