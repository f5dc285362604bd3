/**
 * Inbound SMS/MMS to the phones of its DID as SIP MESSAGE (RFC 3428): the DID's route that
 * holds now (`evaluateRoutes`, as for a call) names the devices (`ring` → its devices,
 * `forward` → its device); every registered contact of each gets one MESSAGE, `text/plain`,
 * the body followed by the media URLs one per line. Best effort: a phone that is not
 * registered or answers an error misses the copy; the message stays in `/api/messages`.
 */
import type { Logger } from 'pino';
import type { SipEndpoint } from '../sip/endpoint.ts';
import type { SendTarget, TransportProtocol } from '../sip/transport-types.ts';
import { createRequest, randomCallId, randomTag } from '../sip/message-build.ts';
import type { LocationService } from './location-service.ts';
import { evaluateRoutes } from './evaluate-routes.ts';
import { routesForDid } from '../store/routes.ts';
import { findDeviceById } from '../store/devices.ts';
import type { Db } from '../store/db.ts';

export interface SmsSipDeliveryDeps {
  db: Db;
  endpoint: SipEndpoint;
  location: LocationService;
  domain: string;
  logger: Logger;
}

export interface InboundSms {
  didId: number;
  from: string;
  body: string;
  mediaUrls: string[];
}

/** The devices the DID's current route names (none for voicemail/reject or no route). */
async function deviceIdsFor(db: Db, sms: InboundSms, now: Date): Promise<number[]> {
  const route = evaluateRoutes(await routesForDid(db, sms.didId), { did: sms.didId, caller: sms.from }, now);
  if (route?.action === 'ring') return route.action_data.device_ids;
  if (route?.action === 'forward' && 'device_id' in route.action_data) return [route.action_data.device_id];
  return [];
}

/** Sends the MESSAGEs; resolves with the number of contacts that answered 2xx. */
export async function deliverSmsOverSip(deps: SmsSipDeliveryDeps, sms: InboundSms, now = new Date()): Promise<number> {
  const text = [sms.body, ...sms.mediaUrls].filter((l) => l !== '').join('\n');
  const sends: Array<Promise<boolean>> = [];
  // The sender's number as a SIP user: E.164 or a short code; anything else is dropped to digits.
  const fromUser = /^\+?[0-9A-Za-z]{1,32}$/.test(sms.from) ? sms.from : 'unknown';
  for (const id of await deviceIdsFor(deps.db, sms, now)) {
    const device = await findDeviceById(deps.db, id);
    if (!device) continue;
    for (const b of deps.location.lookup(device.username)) {
      const target: SendTarget = { protocol: b.transport as TransportProtocol, address: b.sourceIp, port: b.sourcePort, connectionId: b.connectionId ?? undefined, localPort: b.localPort ?? undefined };
      const req = createRequest({
        method: 'MESSAGE', uri: b.contactUri, from: `<sip:${fromUser}@${deps.domain}>;tag=${randomTag()}`, to: `<sip:${device.username}@${deps.domain}>`,
        callId: randomCallId(), cseq: 1, headers: { 'User-Agent': 'Strowger' }, body: text, contentType: 'text/plain;charset=UTF-8',
      });
      sends.push(new Promise((resolve) => {
        // Timeouts and transport failures come back as local 408/503 responses.
        deps.endpoint.request(req, target, { onResponse: (res) => { if (res.status >= 200) resolve(res.status < 300); } });
      }));
    }
  }
  const delivered = (await Promise.all(sends)).filter(Boolean).length;
  deps.logger.info({ did_id: sms.didId, contacts: sends.length, delivered }, 'sms relayed to phones as SIP MESSAGE');
  return delivered;
}
