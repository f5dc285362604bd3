/**
 * A room's video forwarding (SFU style): browsers' camera RTP goes, as it is, to the other
 * browsers' receive slots. No decoding, no transcoding, no renegotiation: each browser offered a
 * fixed number of receive slots when it joined (`webrtc-video.ts`), and the router decides which
 * publisher each slot shows, telling the page with `slots` events so it can label its tiles.
 *
 * - A participant never gets its own camera; publishers fill a subscriber's free slots in join
 *   order; a slot keeps its publisher until that publisher leaves (then it goes empty and the next
 *   publisher not shown yet takes it).
 * - A slot that gets a new publisher waits for a VP8 key frame before it forwards anything (delta
 *   frames would not decode) and asks the publisher for one (RTCP PLI); a subscriber's PLI/FIR is
 *   passed on to the publisher of that slot. Requests to one publisher are at least
 *   `keyframeGapMs` apart: one key frame serves every slot that waits.
 * - SSRC, payload type, sequence numbers and timestamps are the slot's own (werift's sender
 *   rewrites them; sequence numbers and timestamps continue across publishers).
 * - At most `maxPublishers` cameras are forwarded; later ones are refused (`add` says so).
 *
 * @example
 * const router = new VideoRouter({ maxPublishers: 8, slotsPerSubscriber: 4 });
 * router.on('slots', (id, slots) => pageOf(id).send({ type: 'video', slots }));
 * router.add(participant.id, endpoint.video!);
 * router.remove(participant.id);
 */
import { EventEmitter } from 'node:events';
import type { RtpPacket } from 'werift';
import { isVp8KeyframeStart } from '../media/webrtc/vp8-keyframe.ts';
import type { ForwardSlot, VideoPeer } from '../media/webrtc/webrtc-video.ts';

export interface VideoRouterOptions {
  /** Cameras forwarded at once in the room (`STROWGER_ROOMS_VIDEO_PUBLISHERS`). */
  maxPublishers: number;
  /** Slots of a subscriber the router uses (`STROWGER_ROOMS_VIDEO_SLOTS`); extra slots stay empty. */
  slotsPerSubscriber: number;
  /** Least time between two key-frame requests to one publisher. Default 500 ms. */
  keyframeGapMs?: number;
  /** Clock (tests). Default `Date.now`. */
  now?: () => number;
}

/** Which participant a slot shows (the page finds the slot's track by `mid`). */
export interface SlotAssignment {
  mid: string;
  participant: string | null;
}

export interface VideoRouterStats {
  publishers: number;
  subscribers: number;
  /** Cameras refused by the publisher cap. */
  publishers_refused: number;
  /** Camera packets received, and packet copies sent to slots. */
  packets_in: number;
  packets_forwarded: number;
  /** Packets not forwarded to a slot waiting for a key frame. */
  packets_waiting_keyframe: number;
  /** PLIs sent to publishers, and PLI/FIR received from subscribers. */
  keyframe_requests_sent: number;
  keyframe_requests_received: number;
}

export interface VideoRouterEvents {
  /** A subscriber's slot assignments changed (all its slots, in offer order). */
  slots: [subscriber: string, slots: SlotAssignment[]];
}

interface Route {
  slot: ForwardSlot;
  waiting: boolean;
}

interface Publisher {
  id: string;
  video: VideoPeer;
  routes: Route[];
  lastKeyframeRequest: number;
}

interface Subscriber {
  id: string;
  slots: ForwardSlot[];
  /** The publisher each slot shows (null: empty). */
  shows: (Publisher | null)[];
}

export class VideoRouter extends EventEmitter<VideoRouterEvents> {
  private readonly publishers = new Map<string, Publisher>();
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly members = new Map<string, VideoPeer>();
  private readonly gapMs: number;
  private readonly now: () => number;
  private refused = 0;
  private packetsIn = 0;
  private forwarded = 0;
  private waitingDrops = 0;
  private requestsSent = 0;
  private requestsReceived = 0;

  constructor(private readonly options: VideoRouterOptions) {
    super();
    this.gapMs = options.keyframeGapMs ?? 500;
    this.now = options.now ?? Date.now;
  }

  /**
   * Adds a participant's video: its camera (if any, within the cap) is forwarded, its slots show
   * the others. Returns whether its camera is forwarded. Adding an id twice changes nothing.
   */
  add(id: string, video: VideoPeer): { publishing: boolean } {
    if (this.members.has(id)) return { publishing: this.publishers.has(id) };
    this.members.set(id, video);
    let publishing = false;
    if (video.hasCamera) {
      if (this.publishers.size < this.options.maxPublishers) {
        const pub: Publisher = { id, video, routes: [], lastKeyframeRequest: -Infinity };
        this.publishers.set(id, pub);
        video.onCamera((rtp) => this.forward(pub, rtp));
        publishing = true;
      } else {
        this.refused++;
      }
    }
    const slots = video.slots.slice(0, this.options.slotsPerSubscriber);
    if (slots.length > 0) {
      const sub: Subscriber = { id, slots, shows: slots.map(() => null) };
      this.subscribers.set(id, sub);
      slots.forEach((slot, i) => slot.onKeyframeRequest(() => {
        this.requestsReceived++;
        const pub = sub.shows[i];
        if (pub) this.requestKeyframe(pub);
      }));
    }
    this.assign();
    return { publishing };
  }

  /** Removes a participant: its camera leaves every slot, its slots stop. False when unknown. */
  remove(id: string): boolean {
    const video = this.members.get(id);
    if (video === undefined) return false;
    this.members.delete(id);
    video.onCamera(null);
    for (const slot of video.slots) slot.onKeyframeRequest(null);
    const sub = this.subscribers.get(id);
    if (sub) {
      this.subscribers.delete(id);
      sub.shows.forEach((pub, i) => { if (pub) unroute(pub, sub.slots[i]!); });
    }
    this.publishers.delete(id);
    this.assign();
    return true;
  }

  /** A subscriber's slots and whom they show (empty for an unknown id). */
  slotsOf(id: string): SlotAssignment[] {
    const sub = this.subscribers.get(id);
    return sub ? sub.slots.map((slot, i) => ({ mid: slot.mid, participant: sub.shows[i]?.id ?? null })) : [];
  }

  /** Whether a participant's camera is forwarded. */
  publishing(id: string): boolean {
    return this.publishers.has(id);
  }

  stats(): VideoRouterStats {
    return {
      publishers: this.publishers.size, subscribers: this.subscribers.size, publishers_refused: this.refused,
      packets_in: this.packetsIn, packets_forwarded: this.forwarded, packets_waiting_keyframe: this.waitingDrops,
      keyframe_requests_sent: this.requestsSent, keyframe_requests_received: this.requestsReceived,
    };
  }

  /** Hot path: one camera packet to every slot showing its publisher. */
  private forward(pub: Publisher, rtp: RtpPacket): void {
    this.packetsIn++;
    let keyframe: boolean | undefined;
    let waiting = false;
    for (const route of pub.routes) {
      if (route.waiting) {
        keyframe ??= isVp8KeyframeStart(rtp.payload);
        // A key frame the subscriber cannot get yet (DTLS still connecting) does not count.
        if (!keyframe || !route.slot.ready) {
          waiting = true;
          this.waitingDrops++;
          continue;
        }
        route.waiting = false;
      }
      route.slot.send(rtp);
      this.forwarded++;
    }
    // A PLI (or its key frame) may be lost: ask again while a slot still waits.
    if (waiting) this.requestKeyframe(pub, 2 * this.gapMs);
  }

  private requestKeyframe(pub: Publisher, gapMs = this.gapMs): void {
    const now = this.now();
    if (now - pub.lastKeyframeRequest < gapMs) return;
    // Before its first packet a publisher cannot be asked; its first frame is a key frame anyway.
    if (!pub.video.requestKeyframe()) return;
    pub.lastKeyframeRequest = now;
    this.requestsSent++;
  }

  /** Empties slots of publishers that left, then fills empty slots with publishers not shown yet. */
  private assign(): void {
    for (const sub of this.subscribers.values()) {
      let changed = false;
      sub.shows.forEach((pub, i) => {
        if (pub && this.publishers.get(pub.id) !== pub) {
          sub.shows[i] = null;
          changed = true;
        }
      });
      const shown = new Set(sub.shows);
      const waiting = [...this.publishers.values()].filter((p) => p.id !== sub.id && !shown.has(p));
      sub.shows.forEach((pub, i) => {
        if (pub !== null || waiting.length === 0) return;
        const next = waiting.shift()!;
        const slot = sub.slots[i]!;
        sub.shows[i] = next;
        slot.switchSource();
        next.routes.push({ slot, waiting: true });
        this.requestKeyframe(next);
        changed = true;
      });
      if (changed) this.emit('slots', sub.id, this.slotsOf(sub.id));
    }
  }
}

function unroute(pub: Publisher, slot: ForwardSlot): void {
  const i = pub.routes.findIndex((r) => r.slot === slot);
  if (i >= 0) pub.routes.splice(i, 1);
}
