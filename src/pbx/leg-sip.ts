/**
 * What both SIP leg kinds share: the environment they send through, our Contact, and the
 * transaction-less requests of a dialog (ACK for a 2xx, §13.2.2.4 and §17.1.1.3) and BYE.
 */
import { addressFamily } from '../sip/endpoint.ts';
import type { Logger } from 'pino';
import type { SipEndpoint } from '../sip/endpoint.ts';
import type { SendTarget, TransportProtocol } from '../sip/transport-types.ts';
import type { Dialog } from '../sip/dialog.ts';
import type { SipMessage } from '../sip/message.ts';
import { formatVia } from '../sip/header-via.ts';
import type { Timers } from './call-timers.ts';
import type { CallLeg } from './leg-types.ts';

/** Methods our call legs accept, in the Allow of INVITEs and 2xx we send (RFC 3261 §20.5). */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, REFER';

/** The part of the SIP endpoint a call uses (a recorder in unit tests). */
export type CallEndpoint = Pick<SipEndpoint, 'request' | 'sendStateless' | 'via'>;

export interface SipLegEnv {
  endpoint: CallEndpoint;
  timers: Timers;
  /** RFC 3261 T1 in ms. */
  t1: number;
  log: Logger;
  advertise(protocol: TransportProtocol, family?: 4 | 6): { host: string; port: number };
}

/** A leg that has (or will have) a SIP dialog: what in-dialog relaying needs of it. */
export interface SipDialogLeg {
  readonly dialog: Dialog | undefined;
  /** Where this leg's in-dialog requests go. */
  readonly target: SendTarget | undefined;
}

/** A party of an answered call: a SIP leg (either kind) with its dialog, hung up by BYE. */
export type SipParty = CallLeg & SipDialogLeg & { bye(): void };

export function contactFor(env: Pick<SipLegEnv, 'advertise'>, target: SendTarget): string {
  const adv = env.advertise(target.protocol, addressFamily(target.address));
  return `<sip:strowger@${adv.host.includes(':') ? `[${adv.host}]` : adv.host}:${adv.port};transport=${target.protocol}>`;
}

/** ACK for a 2xx: its own transaction-less request in the dialog (§13.2.2.4, §17.1.1.3). */
export function sendAck(env: SipLegEnv, dialog: Dialog, cseq: number, target: SendTarget, body?: string): void {
  const ack = dialog.createRequest('ACK', { cseq, body, contentType: body ? 'application/sdp' : undefined });
  ack.addHeader('Via', formatVia(env.endpoint.via(target.protocol, undefined, addressFamily(target.address))), { first: true });
  void env.endpoint.sendStateless(ack, target).catch(() => {});
}

export function sendBye(env: SipLegEnv, dialog: Dialog, target: SendTarget): void {
  const bye = dialog.createRequest('BYE');
  try {
    env.endpoint.request(bye, target, { onResponse: () => {} });
  } catch (err) {
    env.log.warn({ err }, 'call: BYE not sent');
  }
}

/** Sends an in-dialog request (re-INVITE, UPDATE) and hands its responses over. */
export function requestInDialog(
  env: SipLegEnv, leg: SipDialogLeg, method: string, body: string | undefined, headers: Record<string, string>,
  onResponse: (res: SipMessage, req: SipMessage) => void,
): SipMessage | null {
  if (!leg.dialog || !leg.target) return null;
  const target = leg.target;
  const req = leg.dialog.createRequest(method, { body, contentType: body ? 'application/sdp' : undefined, contact: contactFor(env, target), headers });
  env.endpoint.request(req, target, { onResponse: (res) => onResponse(res, req) });
  return req;
}
