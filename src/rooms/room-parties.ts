/**
 * The rooms side of the call engine: which local party answers a call the router sent to a
 * room or to the room IVR (`call-local.ts`, `room-dial-plan.ts`). One instance per node.
 */
import type { LocalParty, LocalTarget } from '../pbx/call-local.ts';
import { RoomCaller } from './room-caller.ts';
import { RoomIvr, type RoomIvrDeps } from './room-ivr.ts';

export function roomParties(deps: RoomIvrDeps): (target: LocalTarget) => LocalParty | undefined {
  return (target) => {
    switch (target.kind) {
      case 'room': return new RoomCaller(deps, target.room);
      case 'ivr': return new RoomIvr(deps);
      default: return undefined;
    }
  };
}
