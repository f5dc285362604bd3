/**
 * `/api/messages` (seed 003, Messages): SMS/MMS through Twilio. Any logged-in user reads and
 * sends; deleting is for admins.
 *
 * Sending stores the message as `queued` and answers 201 at once; the SMS sender
 * (`pbx/sms-sender.ts`) hands it to Twilio with retries, and Twilio's status callbacks carry
 * it on (`/api/webhooks/sms/status`). Inbound messages come from `/api/webhooks/sms/incoming`.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { conflict, errorResponses, notFound, validationError } from '../shared/errors.ts';
import { currentUser } from '../shared/auth.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { findDidById, toDid } from '../../store/dids.ts';
import {
  countUnread, deleteMessage, findMessageById, insertOutboundMessage, listConversations, listMessages, markConversationRead,
  markMessageRead, messageStats, RESENDABLE_STATUSES, toMessage,
} from '../../store/messages.ts';
import { applyTwilioStatus, cancelQueuedMessage, requeueMessage } from '../../store/message-outbox.ts';
import { twilioNotConfigured, viaTwilio } from './twilio-errors.ts';
import { IdParams, Ok } from './schemas.ts';
import { Conversation, ListQuery, MarkedRead, MessageRef, MessageSchema, NumberParams, SendMessage, Stats, UnreadCount } from './messages-schemas.ts';

export async function messagesRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.addSchema(MessageSchema);
  const db = ctx.store.db;
  const tags = ['messages'];

  async function messageOr404(id: number) {
    const row = await findMessageById(db, id);
    if (!row) throw notFound('Message');
    return row;
  }

  app.get('/messages', {
    schema: { tags, summary: 'List messages, newest first', querystring: ListQuery, response: { 200: ListOf(MessageRef), ...errorResponses(400, 401) } },
  }, async (req) => {
    const { rows, total } = await listMessages(db, req.query);
    return page(rows.map(toMessage), total, req.query);
  });

  app.post('/messages', {
    schema: {
      tags, summary: 'Send an SMS, or an MMS with media_urls: stored as queued, then sent through Twilio with retries',
      body: SendMessage, response: { 201: MessageRef, ...errorResponses(400, 401, 409) },
    },
  }, async (req, reply) => {
    const { to, from_did_id, body = '', media_urls = [] } = req.body;
    if (body === '' && media_urls.length === 0) throw validationError([{ field: 'body', message: 'is required when there are no media_urls' }]);
    const row = await findDidById(db, from_did_id);
    if (!row) throw validationError([{ field: 'from_did_id', message: 'no such DID' }]);
    const did = toDid(row);
    if (row.released_at !== null) throw validationError([{ field: 'from_did_id', message: 'this number is no longer on the Twilio account' }]);
    if (!did.capabilities.includes('sms')) throw validationError([{ field: 'from_did_id', message: 'this DID has no sms capability' }]);
    if (media_urls.length > 0 && !did.capabilities.includes('mms')) throw validationError([{ field: 'media_urls', message: 'the DID has no mms capability' }]);
    if (!(await ctx.twilio.credentials())) throw twilioNotConfigured();
    const msg = await insertOutboundMessage(db, { didId: did.id, didNumber: did.phone_number, to, body, mediaUrls: media_urls, userId: currentUser(req).id });
    ctx.events.emit('sms.message.queued', { id: msg.id });
    return reply.status(201).send(toMessage(msg));
  });

  app.get('/messages/stats', {
    schema: { tags, summary: 'Counts by direction and status, and unread', response: { 200: Stats, ...errorResponses(401) } },
  }, async () => messageStats(db));

  app.get('/messages/unread/count', {
    schema: { tags, summary: 'Number of unread (inbound) messages', response: { 200: UnreadCount, ...errorResponses(401) } },
  }, async () => ({ count: await countUnread(db) }));

  app.get('/messages/conversations', {
    schema: {
      tags, summary: 'Conversations: messages grouped by the other party, most recent first, with the last message and unread count',
      querystring: PaginationQuery, response: { 200: ListOf(Conversation), ...errorResponses(400, 401) },
    },
  }, async (req) => {
    const { rows, total } = await listConversations(db, req.query.limit, req.query.offset);
    return page(rows.map((c) => ({ number: c.number, message_count: c.message_count, unread_count: c.unread_count, last_message: toMessage(c.last) })), total, req.query);
  });

  app.get('/messages/conversation/:number', {
    schema: {
      tags, summary: 'Messages with one party, newest first', params: NumberParams, querystring: PaginationQuery,
      response: { 200: ListOf(MessageRef), ...errorResponses(400, 401) },
    },
  }, async (req) => {
    const { rows, total } = await listMessages(db, { ...req.query, peer: req.params.number });
    return page(rows.map(toMessage), total, req.query);
  });

  app.put('/messages/conversation/:number/read', {
    schema: { tags, summary: 'Mark every message with one party read', params: NumberParams, response: { 200: MarkedRead, ...errorResponses(400, 401) } },
  }, async (req) => ({ success: true, updated: await markConversationRead(db, req.params.number) }));

  app.get('/messages/:id', {
    schema: { tags, summary: 'Get a message', params: IdParams, response: { 200: MessageRef, ...errorResponses(400, 401, 404) } },
  }, async (req) => toMessage(await messageOr404(req.params.id)));

  app.put('/messages/:id/read', {
    schema: { tags, summary: 'Mark a message read', params: IdParams, response: { 200: MessageRef, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const row = await markMessageRead(db, req.params.id);
    if (!row) throw notFound('Message');
    return toMessage(row);
  });

  app.post('/messages/:id/resend', {
    schema: {
      tags, summary: `Queue a ${RESENDABLE_STATUSES.join(' or ')} outbound message again (attempts start over)`,
      params: IdParams, response: { 200: MessageRef, ...errorResponses(400, 401, 404, 409) },
    },
  }, async (req) => {
    const existing = await messageOr404(req.params.id);
    if (!(await ctx.twilio.credentials())) throw twilioNotConfigured();
    const row = await requeueMessage(db, existing.id);
    if (!row) throw conflict(`Only ${RESENDABLE_STATUSES.join(' or ')} outbound messages can be resent (this one is ${existing.direction}, ${existing.status})`);
    ctx.events.emit('sms.message.queued', { id: row.id });
    return toMessage(row);
  });

  app.post('/messages/:id/sync', {
    schema: {
      tags, summary: "Refresh a message's status from Twilio", params: IdParams,
      response: { 200: MessageRef, ...errorResponses(400, 401, 404, 409, 502) },
    },
  }, async (req) => {
    const existing = await messageOr404(req.params.id);
    if (!existing.twilio_sid) throw conflict(`The message has not reached Twilio (status ${existing.status}): nothing to sync`);
    const rest = await ctx.twilio.rest();
    if (!rest) throw twilioNotConfigured();
    const t = await viaTwilio(() => rest.fetchMessage(existing.twilio_sid!));
    const row = existing.direction === 'outbound' ? await applyTwilioStatus(db, t.sid, t) : existing;
    return toMessage(row ?? existing);
  });

  app.post('/messages/:id/cancel', {
    schema: { tags, summary: 'Cancel a message still queued here (not yet handed to Twilio)', params: IdParams, response: { 200: MessageRef, ...errorResponses(400, 401, 404, 409) } },
  }, async (req) => {
    const existing = await messageOr404(req.params.id);
    const row = await cancelQueuedMessage(db, existing.id);
    if (!row) throw conflict(`Only queued messages can be canceled (this one is ${existing.status})`);
    return toMessage(row);
  });

  app.delete('/messages/:id', {
    config: { auth: 'admin' },
    schema: { tags, summary: 'Delete a message (admin); a queued one is not sent', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    if (!(await deleteMessage(db, req.params.id))) throw notFound('Message');
    return { success: true };
  });
}
