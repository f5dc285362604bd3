/**
 * SUBSCRIBE by event package (RFC 6665 §4.2.1.1): the endpoint has one handler per method,
 * so SUBSCRIBE goes through this table of packages. A package nobody serves gets
 * `489 Bad Event` with `Allow-Events` listing the ones we do (§8.2.2, §7.2.2), and a SUBSCRIBE
 * without a parseable Event header gets 400 (§8.2.1: Event is mandatory).
 */
import type { IncomingRequest, RequestHandler } from '../sip/endpoint.ts';
import { parseEvent, type EventHeader } from '../sip/header-event.ts';

export type SubscribeHandler = (r: IncomingRequest, event: EventHeader) => void | Promise<void>;

export class SubscribeDispatch {
  private readonly packages = new Map<string, SubscribeHandler>();

  /** Serves `eventPackage` (lowercase name, e.g. `message-summary`). */
  register(eventPackage: string, handler: SubscribeHandler): void {
    this.packages.set(eventPackage.toLowerCase(), handler);
  }

  /** The `Allow-Events` value: every package served. */
  get allowEvents(): string {
    return [...this.packages.keys()].join(', ');
  }

  /** The SUBSCRIBE handler for `endpoint.onRequest('SUBSCRIBE', …)`. */
  readonly handle: RequestHandler = (r) => {
    const raw = r.msg.getHeader('event');
    let event: EventHeader;
    try {
      if (raw === undefined || raw === null) throw new Error('missing Event');
      event = parseEvent(raw);
    } catch {
      r.reply(400, 'Missing or Invalid Event Header');
      return;
    }
    const handler = this.packages.get(event.type.toLowerCase());
    if (!handler) {
      r.reply(489, 'Bad Event', { headers: { 'Allow-Events': this.allowEvents } });
      return;
    }
    return handler(r, event);
  };
}
