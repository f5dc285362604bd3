/**
 * `/api/mwi` (seed 003, MWI): message-waiting counts per mailbox and the live
 * message-summary subscriptions; `POST /api/mwi/notify` pushes NOTIFYs now (admins).
 *
 * A user sees the mailboxes of their own devices and the subscriptions to them; admins see
 * every mailbox (DID mailboxes have no owner yet, store/voicemails.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, notFound, validationError } from '../shared/errors.ts';
import { currentUser } from '../shared/auth.ts';
import { findDeviceById } from '../../store/devices.ts';
import { findDidById } from '../../store/dids.ts';
import { countsByMailbox, listMailboxCounts, mailboxesOwnedBy, mailboxKey, parseMailboxKey } from '../../store/voicemails.ts';
import { MwiMailboxes } from '../../pbx/mwi-mailboxes.ts';

const MailboxStatus = Type.Object({
  mailbox: Type.String({ description: 'Mailbox key: device:<id> or did:<id>' }),
  kind: Type.Union([Type.Literal('device'), Type.Literal('did')]),
  id: Type.Integer({ description: 'Device or DID id' }),
  account: Type.Union([Type.String(), Type.Null()], { description: 'SIP user part naming the mailbox (device username or DID number); null when its owner is gone' }),
  new: Type.Integer({ description: 'Unread messages' }),
  old: Type.Integer({ description: 'Read messages' }),
  messages_waiting: Type.Boolean(),
  subscriptions: Type.Integer({ description: 'Active message-summary subscriptions to it' }),
});

const SubscriptionStatus = Type.Object({
  device_id: Type.Integer(),
  username: Type.String(),
  mailbox: Type.String(),
  account: Type.String({ description: 'Message-Account of its NOTIFYs' }),
  transport: Type.String({ examples: ['udp'] }),
  source: Type.String({ description: 'Where its NOTIFYs go (address:port)' }),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  expires_in: Type.Integer({ description: 'Seconds left' }),
  notifies: Type.Integer({ description: 'NOTIFYs sent on this subscription' }),
});

const MwiStatus = Type.Object({
  mailboxes: Type.Array(MailboxStatus),
  subscriptions: Type.Array(SubscriptionStatus),
  unsolicited_notifies: Type.Integer({ description: 'Unsolicited NOTIFYs sent since start' }),
}, {
  examples: [{
    mailboxes: [{ mailbox: 'device:1', kind: 'device', id: 1, account: '1001', new: 2, old: 8, messages_waiting: true, subscriptions: 1 }],
    subscriptions: [{ device_id: 1, username: '1001', mailbox: 'device:1', account: 'sip:1001@pbx.example.com', transport: 'udp', source: '192.0.2.10:5062', created_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-01T01:00:00.000Z', expires_in: 3540, notifies: 3 }],
    unsolicited_notifies: 0,
  }],
});

const NotifyBody = Type.Object({
  did_id: Type.Optional(Type.Integer({ minimum: 1, description: 'Push the mailbox of this DID' })),
  device_id: Type.Optional(Type.Integer({ minimum: 1, description: "Or the device's own mailbox" })),
}, { additionalProperties: false, examples: [{ did_id: 1 }, { device_id: 3 }] });

const NotifyResult = Type.Object({
  mailbox: Type.String(),
  new: Type.Integer(),
  old: Type.Integer(),
  subscriptions: Type.Integer({ description: 'Subscriptions sent a NOTIFY' }),
  unsolicited: Type.Integer({ description: 'Unsolicited NOTIFYs sent (devices with mwi_unsolicited)' }),
}, { examples: [{ mailbox: 'did:1', new: 1, old: 0, subscriptions: 2, unsolicited: 0 }] });

export async function mwiRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const tags = ['mwi'];
  const mailboxes = new MwiMailboxes(db);
  const sip = () => {
    if (!ctx.sip) throw new ApiError('service_unavailable', 'The SIP server is not running');
    return ctx.sip;
  };

  app.get('/mwi/status', {
    schema: { tags, summary: 'Voicemail counts per mailbox and active message-summary subscriptions', response: { 200: MwiStatus, ...errorResponses(401, 503) } },
  }, async (req) => {
    const mwi = sip().mwi;
    const user = currentUser(req);
    const visible = user.role === 'admin' ? null : new Set(await mailboxesOwnedBy(db, user.id));
    const subscriptions = mwi.status().filter((s) => visible === null || visible.has(s.mailbox));
    const counts = new Map((await listMailboxCounts(db)).map((c) => [c.mailbox, c]));
    // Mailboxes with messages, and those watched while empty (0/0), in key order.
    const keys = [...new Set([...counts.keys(), ...subscriptions.map((s) => s.mailbox)])].filter((k) => visible === null || visible.has(k)).sort();
    const rows = await Promise.all(keys.map(async (key) => {
      const ref = parseMailboxKey(key)!;
      const c = counts.get(key) ?? { new: 0, old: 0 };
      return {
        mailbox: key, kind: ref.kind, id: ref.id, account: (await mailboxes.byKey(key))?.account ?? null,
        new: c.new, old: c.old, messages_waiting: c.new > 0, subscriptions: subscriptions.filter((s) => s.mailbox === key).length,
      };
    }));
    return { mailboxes: rows, subscriptions, unsolicited_notifies: mwi.unsolicited.sent };
  });

  app.post('/mwi/notify', {
    config: { auth: 'admin' },
    schema: {
      tags, summary: "Send MWI NOTIFYs now to the watchers of a DID's (or a device's) mailbox (admin)",
      body: NotifyBody, response: { 200: NotifyResult, ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (req) => {
    const { did_id: didId, device_id: deviceId } = req.body;
    if ((didId === undefined) === (deviceId === undefined)) {
      throw validationError([{ field: 'did_id', message: 'give exactly one of did_id and device_id' }]);
    }
    const mwi = sip().mwi;
    let key: string;
    if (didId !== undefined) {
      if (!(await findDidById(db, didId))) throw notFound('DID');
      key = mailboxKey({ kind: 'did', id: didId });
    } else {
      if (!(await findDeviceById(db, deviceId!))) throw notFound('Device');
      key = mailboxKey({ kind: 'device', id: deviceId! });
    }
    const [pushed, counts] = await Promise.all([mwi.notifyMailbox(key), countsByMailbox(db, key)]);
    return { mailbox: key, new: counts.new, old: counts.old, subscriptions: pushed.subscriptions, unsolicited: pushed.unsolicited };
  });
}
