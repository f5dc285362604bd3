/**
 * The in-process event catalogue: every event that crosses from one part of the node to
 * another (an API write reaching a cache of the call engine or the SIP side), with its payload.
 *
 * Names are the NATS subjects these events will be published on when nodes form a cluster
 * (`<area>.<thing>.<what happened>`), and payloads are plain JSON-able objects for the same
 * reason. Events are announced after the write has committed, so a listener that reloads sees
 * the new rows.
 *
 * Rule: every event here has at least one emitter and one listener in `src/`
 * (`test/unit/events.test.ts` checks it by scanning the sources). An event nobody listens to
 * is not added "for later"; an event listened to must be emitted by whoever writes those rows.
 *
 * Why `src/events.ts` and not `src/pbx/events.ts`: the bus joins layers (the API emits; the
 * call router, the SIP server and later the media and Twilio sides listen), and `system.*`
 * events are not the PBX's; the catalogue belongs to none of them.
 *
 * @example
 * const events = createEventBus();
 * events.on('pbx.trunk.changed', ({ id }) => cache.dropTrunk(id));
 * events.emit('pbx.trunk.changed', { id: 3 }); // a typo in the name or payload does not compile
 */
import { EventEmitter } from 'node:events';
import type { RestoreResult } from './pbx/backup-restore.ts';

/** A device was created or updated (username, password, owner, caller id or DND flag). */
export interface DeviceChanged {
  id: number;
  username: string;
  /** Set when the username changed: the old one (its cached credentials must go). */
  previous_username?: string;
}

export interface DeviceDeleted {
  id: number;
  username: string;
}

/** A DID was created, renumbered or deleted (its routes went with it when deleted). */
export interface DidsChanged {
  id: number;
}

/** Routes of these DIDs changed (`null`: routes with no DID). */
export interface RoutesChanged {
  did_ids: Array<number | null>;
}

export interface TrunkChanged {
  id: number;
}

/** The blocklist changed (any entry); matchers reload the whole list. */
export type BlocklistChanged = Record<string, never>;

/** A Do Not Disturb flag changed: a user's (`device_id` null) or a device's. */
export interface DndChanged {
  user_id: number | null;
  device_id: number | null;
  enabled: boolean;
}

/**
 * A mailbox's messages changed: one was left (`added`), read or marked new (`read`), or
 * deleted. MWI (RFC 3842) recounts the mailbox; the mail outbox wakes on `added`.
 */
export interface VoicemailChanged {
  /** Mailbox key, `device:<id>` or `did:<id>` (src/store/voicemails.ts). */
  mailbox: string;
  device_id: number | null;
  did_id: number | null;
  voicemail_id: number;
  reason: 'added' | 'read' | 'deleted';
}

/**
 * Event name → listener arguments (one payload each). This is `EventEmitter<Events>`'s map,
 * so `emit`/`on` check both the name and the payload.
 */
export interface Events {
  'pbx.device.changed': [DeviceChanged];
  'pbx.device.deleted': [DeviceDeleted];
  'pbx.dids.changed': [DidsChanged];
  'pbx.routes.changed': [RoutesChanged];
  'pbx.trunk.changed': [TrunkChanged];
  'pbx.blocklist.changed': [BlocklistChanged];
  'pbx.dnd.changed': [DndChanged];
  'pbx.voicemail.changed': [VoicemailChanged];
  /** A backup replaced every table: whatever was cached from the store is stale. */
  'system.restored': [RestoreResult];
}

export type EventName = keyof Events;

/** Every name of {@link Events}, at run time (the compiler checks none is missing). */
export const EVENT_NAMES = [
  'pbx.device.changed', 'pbx.device.deleted', 'pbx.dids.changed', 'pbx.routes.changed',
  'pbx.trunk.changed', 'pbx.blocklist.changed', 'pbx.dnd.changed', 'system.restored',
  'pbx.voicemail.changed',
] as const satisfies readonly EventName[];

// Compile-time check that EVENT_NAMES lists every event: `true` only when none is missing.
const allNamesListed: Exclude<EventName, (typeof EVENT_NAMES)[number]> extends never ? true : never = true;
void allNamesListed;

/** The node's event bus: a Node `EventEmitter` typed by the catalogue. */
export type EventBus = EventEmitter<Events>;

export function createEventBus(): EventBus {
  return new EventEmitter<Events>();
}

/**
 * The listening half of the bus, for subscribers that only need `on`/`off` (it also accepts an
 * untyped `EventEmitter`, whose methods are looser than this).
 */
export interface EventSource {
  on<K extends EventName>(name: K, listener: (...args: Events[K]) => void): unknown;
  off<K extends EventName>(name: K, listener: (...args: Events[K]) => void): unknown;
}
