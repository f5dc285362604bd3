/**
 * `/api/dnd` (seed 003): Do Not Disturb. Without `device_id` it is the caller's own flag
 * (`users.dnd_enabled`: every device they own stops ringing); with `device_id` it is that
 * device's flag. A user may set it on devices they own; an admin on any device.
 * Changes are announced as `pbx.dnd.changed` {user_id, device_id, enabled} on `ctx.events`
 * (and `pbx.device.changed` for a device) after commit: the call router keeps users' flags.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { errorResponses, forbidden, notFound } from '../shared/errors.ts';
import { currentUser } from '../shared/auth.ts';
import { findUserById, updateUser } from '../../store/users.ts';
import { findDeviceById, updateDevice } from '../../store/devices.ts';

const DndState = Type.Object({
  enabled: Type.Boolean(),
  user_id: Type.Union([Type.Integer(), Type.Null()], { description: 'The user whose flag it is, or who owns the device (null: no owner)' }),
  device_id: Type.Union([Type.Integer(), Type.Null()], { description: 'Set when the flag is a device\'s' }),
}, { examples: [{ enabled: true, user_id: 1, device_id: null }] });

export async function dndRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const tags = ['dnd'];

  app.get('/dnd', {
    schema: { tags, summary: "Your own Do Not Disturb state", response: { 200: DndState, ...errorResponses(401) } },
  }, async (req) => {
    const user = currentUser(req);
    const row = await findUserById(db, user.id);
    return { enabled: row?.dnd_enabled === 1, user_id: user.id, device_id: null };
  });

  app.put('/dnd', {
    schema: {
      tags, summary: 'Toggle Do Not Disturb: yours, or with device_id a device\'s (yours; admins: any)',
      body: Type.Object({
        enabled: Type.Boolean(),
        device_id: Type.Optional(Type.Integer({ minimum: 1 })),
      }, { examples: [{ enabled: true }, { enabled: false, device_id: 1 }] }),
      response: { 200: DndState, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (req) => {
    const user = currentUser(req);
    const { enabled, device_id: deviceId } = req.body;
    if (deviceId === undefined) {
      const row = await updateUser(db, user.id, { dnd_enabled: enabled ? 1 : 0 });
      if (!row) throw notFound('User');
      ctx.events.emit('pbx.dnd.changed', { user_id: user.id, device_id: null, enabled });
      return { enabled, user_id: user.id, device_id: null };
    }
    const device = await db.transaction().execute(async (tx) => {
      const row = await findDeviceById(tx, deviceId);
      // A user learns nothing about devices that are not theirs, existing or not.
      if (user.role !== 'admin' && row?.user_id !== user.id) throw forbidden('You can only set DND on your own devices');
      if (!row) throw notFound('Device');
      return updateDevice(tx, ctx.box, row.id, { dndEnabled: enabled });
    });
    if (!device) throw notFound('Device');
    ctx.events.emit('pbx.device.changed', { id: device.id, username: device.username });
    ctx.events.emit('pbx.dnd.changed', { user_id: device.user_id, device_id: device.id, enabled });
    return { enabled, user_id: device.user_id, device_id: device.id };
  });
}
