/**
 * Message waiting (RFC 3842): serves `SUBSCRIBE Event: message-summary` and keeps every
 * watcher of a mailbox told. When a mailbox's messages change (`pbx.voicemail.changed`,
 * announced by the voicemail code after its write commits) each subscription to it gets an
 * in-dialog NOTIFY with the new counts, and each device that watches it with
 * `mwi_unsolicited` on gets an unsolicited NOTIFY at its registered contacts.
 *
 * `notifyMailbox` is the same push on demand (`POST /api/mwi/notify`), `status` the
 * subscriptions for `GET /api/mwi/status`.
 */
import type { Logger } from 'pino';
import type { DeviceDeleted, EventSource, VoicemailChanged } from '../events.ts';
import type { SipEndpoint } from '../sip/endpoint.ts';
import { MESSAGE_SUMMARY_EVENT } from '../sip/message-summary.ts';
import { systemTimers, type Timers } from '../sip/timers.ts';
import type { DeviceAuthResult } from './device-auth.ts';
import type { IncomingRequest } from '../sip/endpoint.ts';
import type { SipLegEnv } from './leg-sip.ts';
import type { LocationService } from './location-service.ts';
import type { MwiMailboxes } from './mwi-mailboxes.ts';
import { createMwiSubscribeHandler, type MwiExpiryPolicy } from './mwi-subscribe.ts';
import { MwiSubscriptions, type MwiSubscription } from './mwi-subscriptions.ts';
import { MwiUnsolicited } from './mwi-unsolicited.ts';
import type { SubscribeDispatch } from './subscribe-dispatch.ts';

export interface MwiServiceDeps {
  endpoint: Pick<SipEndpoint, 'request'>;
  dispatch: SubscribeDispatch;
  location: Pick<LocationService, 'lookup'>;
  mailboxes: MwiMailboxes;
  authenticate(r: IncomingRequest): Promise<DeviceAuthResult>;
  events: EventSource;
  advertise: SipLegEnv['advertise'];
  domain: string;
  policy: MwiExpiryPolicy;
  logger: Logger;
  timers?: Timers;
}

/** What one push reached. */
export interface MwiPushResult {
  mailbox: string;
  /** In-dialog NOTIFYs started (one per subscription). */
  subscriptions: number;
  /** Unsolicited NOTIFYs sent (one per registered contact of devices set for them). */
  unsolicited: number;
}

/** A subscription as `GET /api/mwi/status` shows it. */
export interface MwiSubscriptionView {
  device_id: number;
  username: string;
  mailbox: string;
  account: string;
  transport: string;
  source: string;
  created_at: string;
  expires_at: string;
  expires_in: number;
  notifies: number;
}

export class MwiService {
  readonly subscriptions: MwiSubscriptions;
  readonly unsolicited: MwiUnsolicited;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly onChanged = (e: VoicemailChanged) => {
    void this.notifyMailbox(e.mailbox).catch((err) => this.log.error({ err, mailbox: e.mailbox }, 'MWI: NOTIFYs after a mailbox change failed'));
  };
  private readonly onDeviceDeleted = (e: DeviceDeleted) => {
    for (const s of this.subscriptions.all()) if (s.deviceId === e.id) this.subscriptions.end(s, 'noresource');
  };

  constructor(private readonly deps: MwiServiceDeps) {
    this.log = deps.logger.child({ component: 'mwi' });
    this.timers = deps.timers ?? systemTimers;
    this.subscriptions = new MwiSubscriptions({ endpoint: deps.endpoint, timers: this.timers, counts: (m) => deps.mailboxes.counts(m), log: this.log });
    this.unsolicited = new MwiUnsolicited({ endpoint: deps.endpoint, location: deps.location, advertise: deps.advertise, domain: deps.domain, log: this.log });
    deps.dispatch.register(MESSAGE_SUMMARY_EVENT, createMwiSubscribeHandler({
      authenticate: deps.authenticate, subscriptions: this.subscriptions, mailboxes: deps.mailboxes,
      policy: deps.policy, domain: deps.domain, advertise: deps.advertise, log: this.log,
    }));
    deps.events.on('pbx.voicemail.changed', this.onChanged);
    deps.events.on('pbx.device.deleted', this.onDeviceDeleted);
  }

  /** NOTIFYs with the current counts to every watcher of `mailbox` (store key). */
  async notifyMailbox(mailbox: string): Promise<MwiPushResult> {
    const subs = this.subscriptions.ofMailbox(mailbox);
    for (const s of subs) this.subscriptions.notify(s);
    let unsolicited = 0;
    const devices = await this.deps.mailboxes.unsolicitedDevices(mailbox);
    if (devices.length > 0) {
      const [box, counts] = await Promise.all([this.deps.mailboxes.byKey(mailbox), this.deps.mailboxes.counts(mailbox)]);
      if (box) for (const d of devices) unsolicited += this.unsolicited.notify(d.username, box.account, counts);
    }
    return { mailbox, subscriptions: subs.length, unsolicited };
  }

  status(): MwiSubscriptionView[] {
    const now = this.timers.now();
    return this.subscriptions.all().map((s: MwiSubscription) => ({
      device_id: s.deviceId, username: s.username, mailbox: s.mailbox, account: s.account,
      transport: s.target.protocol, source: `${s.target.address}:${s.target.port}`,
      created_at: new Date(s.createdAt).toISOString(), expires_at: new Date(s.expiresAt).toISOString(),
      expires_in: Math.max(0, Math.round((s.expiresAt - now) / 1000)), notifies: s.notifies,
    }));
  }

  close(): void {
    this.deps.events.off('pbx.voicemail.changed', this.onChanged);
    this.deps.events.off('pbx.device.deleted', this.onDeviceDeleted);
    this.subscriptions.close();
  }
}
