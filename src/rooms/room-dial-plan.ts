/**
 * Which dialled SIP user parts reach a room. The call router asks `resolve(userPart)` before
 * its own rules (DIDs, devices, trunks); a hit is answered by the PBX and its caller joins the
 * room (`room-caller.ts`) or the room-number IVR (`room-ivr.ts`).
 *
 * Three ways in, in this order:
 * - entries registered at run time: `register('gw-standup', 'standup')` makes
 *   `sip:gw-standup@<domain>` join room `standup`. The SIP gateways (seed 000/001) register
 *   `<prefix><room>` for each gateway they start and `unregister` it when they stop.
 *   `registerIvr(userPart)` makes another user part reach the IVR.
 * - the IVR number (`STROWGER_IVR_NUMBER`, default `0`; empty: no IVR number).
 * - the room prefix (`STROWGER_ROOM_PREFIX`, default none): `<prefix><room>` joins `<room>`
 *   for any valid room name, created on first use.
 *
 * Found on the server context as `ctx.roomDialPlan`.
 *
 * @example
 * ctx.roomDialPlan.register('conf-standup', 'standup');   // false: taken by another room
 * ctx.roomDialPlan.resolve('conf-standup');                // { kind: 'room', room: 'standup' }
 * ctx.roomDialPlan.unregister('conf-standup');
 */
import { RoomError } from './room-errors.ts';
import { RoomRegistry } from './room-registry.ts';

export type RoomDialTarget = { kind: 'room'; room: string } | { kind: 'ivr' };

export interface RoomDialPlanOptions {
  /** Dialling `<prefix><room>` joins `<room>`; undefined: off. */
  prefix?: string;
  /** The IVR's number; undefined: reached only through `registerIvr`. */
  ivrNumber?: string;
}

const USER_PART = /^[A-Za-z0-9_.!~*'()&=+$,;?/%-]{1,64}$/;

export class RoomDialPlan {
  private readonly entries = new Map<string, RoomDialTarget>();
  /** Told after each change of the registered entries (call shards keep a copy: `pbx/call-shards.ts`). */
  onChange: (() => void) | undefined;

  constructor(private readonly options: RoomDialPlanOptions = {}) {}

  /**
   * `userPart` now joins `room`. Registering the same pair again is a no-op (true); a user part
   * that already leads elsewhere is left alone (false).
   * @throws RoomError `ROOM_BAD_NAME` for a room name no room can have; TypeError for an empty or odd user part.
   */
  register(userPart: string, room: string): boolean {
    if (!RoomRegistry.validName(room)) throw new RoomError('ROOM_BAD_NAME', JSON.stringify(room.slice(0, 80)));
    return this.add(userPart, { kind: 'room', room });
  }

  /** `userPart` now reaches the room-number IVR (false: taken). */
  registerIvr(userPart: string): boolean {
    return this.add(userPart, { kind: 'ivr' });
  }

  /** Forgets a registered user part; false when it was not registered. The prefix and IVR number stay. */
  unregister(userPart: string): boolean {
    const gone = this.entries.delete(userPart);
    if (gone) this.onChange?.();
    return gone;
  }

  /** The registered entries, for the API and logs. */
  registered(): Array<{ userPart: string; target: RoomDialTarget }> {
    return [...this.entries].map(([userPart, target]) => ({ userPart, target }));
  }

  /** Where a dialled user part leads, or undefined when it is not a room's. */
  resolve(userPart: string): RoomDialTarget | undefined {
    const entry = this.entries.get(userPart);
    if (entry !== undefined) return entry;
    if (this.options.ivrNumber !== undefined && userPart === this.options.ivrNumber) return { kind: 'ivr' };
    const prefix = this.options.prefix;
    if (prefix !== undefined && userPart.length > prefix.length && userPart.startsWith(prefix)) {
      const room = userPart.slice(prefix.length);
      if (RoomRegistry.validName(room)) return { kind: 'room', room };
    }
    return undefined;
  }

  private add(userPart: string, target: RoomDialTarget): boolean {
    if (!USER_PART.test(userPart)) throw new TypeError(`not a SIP user part: ${JSON.stringify(userPart.slice(0, 80))}`);
    const existing = this.entries.get(userPart);
    if (existing !== undefined) return JSON.stringify(existing) === JSON.stringify(target);
    this.entries.set(userPart, target);
    this.onChange?.();
    return true;
  }
}
