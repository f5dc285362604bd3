/**
 * One call of the call gateway as apps see it: who it belongs to, its numbers, its hook, and
 * the events so far. Every event goes to the hook outbox (when the call has a hook), to the
 * call's WebSocket clients and to the gateway's listeners (notify_ws). Late WebSocket clients
 * get the events so far first (`history`), so nothing depends on connecting before `ringing`.
 * The signalling side is a `CallControl`: an originated call (outgoing) or an incoming leg.
 */
import type { CallEvent, CallEventName } from './call-events.ts';
import type { LegId } from '../media/relay-protocol.ts';

export type CallDirection = 'outgoing' | 'incoming';

/** What the gateway asks of the call's signalling side. */
export interface CallControl {
  /** CANCEL/reject before the answer, BYE after; idempotent. */
  end(): void;
  /** @throws Error when the call cannot carry digits now. */
  sendDtmf(digits: string): Promise<void>;
  /** Whether the far end hears our side (recvonly on our endpoint while muted). */
  setMuted(muted: boolean): Promise<void>;
}

export type CallEventListener = (e: CallEvent) => void;

export interface GatewayCallInit {
  id: string;
  appId: string;
  direction: CallDirection;
  from: string;
  to: string;
  hook: { url: string; contentType: string } | null;
  control: CallControl;
}

export class GatewayCall {
  readonly id: string;
  readonly appId: string;
  readonly direction: CallDirection;
  readonly from: string;
  readonly to: string;
  readonly hook: { url: string; contentType: string } | null;
  control: CallControl;
  readonly history: CallEvent[] = [];
  private readonly listeners = new Set<CallEventListener>();
  ended = false;
  muted = false;
  /** The call's media leg once it has one (accepted, answered): what rooms and WebRTC peers attach to. */
  legId: LegId | null = null;
  /** The room the call is streamed into (`stream`/`streaming`), if any. */
  room: { name: string; peer: string } | null = null;
  /** The recording's path when the call is recorded in its room; reported in `ended`. */
  recording: string | null = null;
  private readonly endings: Array<() => unknown> = [];

  constructor(init: GatewayCallInit, private readonly publish: (call: GatewayCall, e: CallEvent) => void, private readonly now: () => number) {
    this.id = init.id;
    this.appId = init.appId;
    this.direction = init.direction;
    this.from = init.from;
    this.to = init.to;
    this.hook = init.hook;
    this.control = init.control;
  }

  /** Records and fans out one event; after `ended` nothing more is emitted. */
  emit(event: CallEventName, extra: Partial<CallEvent> = {}): CallEvent | undefined {
    if (this.ended) return undefined;
    if (event === 'ended') this.ended = true;
    const e: CallEvent = {
      timestamp: this.now(), call_id: this.id, event, direction: this.direction, app_id: this.appId,
      from_number: this.from, to_number: this.to, ...extra,
      ...(event === 'ended' && this.recording !== null ? { recording: this.recording } : {}),
    };
    if (event === 'ended') for (const f of this.endings.splice(0)) void Promise.resolve().then(f).catch(() => {});
    this.history.push(e);
    this.publish(this, e);
    for (const l of this.listeners) l(e);
    return e;
  }

  /** Runs `f` when the call ends (at once when it has): leaving rooms, closing WebRTC peers. */
  onEnd(f: () => unknown): void {
    if (this.ended) void Promise.resolve().then(f).catch(() => {});
    else this.endings.push(f);
  }

  /** Subscribes a WebSocket client: the events so far at once, then live. Returns the unsubscribe. */
  subscribe(l: CallEventListener): () => void {
    for (const e of this.history) l(e);
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
