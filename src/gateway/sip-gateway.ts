/**
 * SIP gateway (seeds 000/001), two ways:
 * - with `dial`: the PBX calls the SIP URI (or the number, routed like any dialled number:
 *   devices, default trunk) through `originate`, and the answered call's media leg joins the
 *   room. `loop`: when the far end hangs up (or the call fails) it is dialled again after a
 *   back-off (1 s, ×2, at most 30 s; a call that lasted 30 s resets it), until stop. Without
 *   `loop`, the far end hanging up ends the gateway (`stopped`); a call that fails ends it `failed`.
 * - without `dial`: `sip:<prefix><room>@<domain>` is registered in the room dial plan, so
 *   callers dialling it join the room (`src/rooms/room-caller.ts`); stop unregisters it.
 */
import type { MediaEngine } from '../media/media-engine.ts';
import type { Originator, OriginatedCall } from '../pbx/originate.ts';
import type { RoomDialPlan } from '../rooms/room-dial-plan.ts';
import type { Room } from '../rooms/room.ts';
import { GatewayError } from './gateway-errors.ts';
import type { GatewayParams, GatewayRunner, RunnerFailed } from './gateway-types.ts';

const STABLE_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;

export interface SipGatewayDeps {
  originator?: Pick<Originator, 'originate'>;
  dialPlan?: RoomDialPlan;
  media: Pick<MediaEngine, 'sendDtmf'>;
  domain: string;
  failed: RunnerFailed;
  /** The gateway is over without fault (the far end hung up, no `loop`). */
  ended(reason: string): void;
  retryBaseMs?: number;
}

/** The user part callers dial: `<prefix><room>`. */
export const sipUserPart = (p: Pick<GatewayParams, 'prefix' | 'room'>): string => `${p.prefix ?? ''}${p.room}`;

export class SipGateway implements GatewayRunner {
  readonly task = 'sip' as const;
  participantId: string | null = null;
  private room: Room | null = null;
  private call: OriginatedCall | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private calls = 0;
  private retries = 0;
  private lastEnd: string | null = null;
  private registered: string | null = null;
  private stopping: { left: Promise<void>; done: Promise<void> } | null = null;

  constructor(private readonly params: GatewayParams, private readonly deps: SipGatewayDeps) {}

  get uri(): string {
    return `sip:${sipUserPart(this.params)}@${this.params.domain || this.deps.domain}`;
  }

  async start(room: Room): Promise<void> {
    this.room = room;
    if (this.params.dial) {
      if (this.deps.originator === undefined) throw new GatewayError('GW_UNAVAILABLE', 'this node places no SIP calls');
      this.dial();
      return;
    }
    const dialPlan = this.deps.dialPlan;
    if (dialPlan === undefined) throw new GatewayError('GW_UNAVAILABLE', 'this node has no room dial plan');
    const user = sipUserPart(this.params);
    const shared = dialPlan.resolve(user);
    if (shared !== undefined && !(shared.kind === 'room' && shared.room === room.name && dialPlan.registered().some((e) => e.userPart === user))) {
      throw new GatewayError('GW_CONFLICT', `${user} already leads to ${shared.kind === 'room' ? `room ${shared.room}` : 'the IVR'}`);
    }
    // Registered already for this room by another gateway: that one owns (and unregisters) it.
    if (shared === undefined) {
      dialPlan.register(user, room.name);
      this.registered = user;
    }
  }

  stop(): { left: Promise<void>; done: Promise<void> } {
    if (this.stopping !== null) return this.stopping;
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.registered !== null) this.deps.dialPlan?.unregister(this.registered);
    this.registered = null;
    const left = this.leaveRoom().then(() => this.call?.hangup('api_hangup'));
    this.stopping = { left, done: left };
    return this.stopping;
  }

  status(): Record<string, unknown> {
    return {
      uri: this.params.dial ? null : this.uri,
      dial: this.params.dial ?? null,
      loop: this.params.loop ?? false,
      call_state: this.call?.state ?? null,
      calls: this.calls,
      retries: this.retries,
      last_end: this.lastEnd,
    };
  }

  async command(name: string, value: unknown): Promise<boolean> {
    if (name !== 'dtmf' || this.call?.legId == null || this.call.state !== 'answered') return false;
    await this.deps.media.sendDtmf(this.call.legId, String(value));
    return true;
  }

  private dial(): void {
    if (this.stopped || this.room === null) return;
    const room = this.room;
    const dial = this.params.dial!;
    this.calls++;
    const call = this.deps.originator!.originate({
      target: /^sips?:/i.test(dial) ? { kind: 'uri', uri: dial } : { kind: 'number', number: dial },
      // From's user part: `fromId` when it is a number or SIP user name, else `gateway` (it is still the display name).
      from: this.params.fromId !== undefined && /^[A-Za-z0-9_.+-]{1,32}$/.test(this.params.fromId) ? this.params.fromId : 'gateway',
      displayName: this.params.fromId, group: room.group,
    });
    this.call = call;
    let answeredAt = 0;
    call.on('answered', ({ legId }) => {
      answeredAt = Date.now();
      void room.join({ kind: 'sip', displayName: this.params.fromId || dial, endpoint: legId })
        .then((me) => {
          if (this.stopped) void room.leave(me.id);
          else this.participantId = me.id;
        })
        .catch((err: Error) => { call.hangup('failed'); this.deps.failed(`the call could not join the room: ${err.message}`); });
    });
    call.once('ended', ({ reason, sipCode }) => {
      this.lastEnd = `${reason}${sipCode ? ` (${sipCode})` : ''}`;
      void this.leaveRoom();
      if (this.stopped) return;
      if (this.params.loop) {
        if (answeredAt !== 0 && Date.now() - answeredAt >= STABLE_MS) this.retries = 0;
        const delay = Math.min((this.deps.retryBaseMs ?? 1000) * 2 ** this.retries, MAX_BACKOFF_MS);
        this.retries++;
        this.timer = setTimeout(() => this.dial(), delay);
        this.timer.unref();
      } else if (answeredAt !== 0) {
        this.deps.ended(`the call to ${dial} ended: ${this.lastEnd}`);
      } else {
        this.deps.failed(`the call to ${dial} failed: ${this.lastEnd}`);
      }
    });
  }

  private async leaveRoom(): Promise<void> {
    const id = this.participantId;
    this.participantId = null;
    if (id !== null && this.room !== null) await this.room.leave(id).catch(() => false);
  }
}
