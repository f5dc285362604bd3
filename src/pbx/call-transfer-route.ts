/**
 * Where a transfer target goes: the call router, with the transferor as the origin, so a
 * transfer obeys the rules its own calls obey (blocklist, DND, routes of DIDs for a trunk,
 * devices and the default trunk for a device). The API transfers as the PBX itself: no
 * device, no trunk (devices by username, else the default trunk), with the kept caller as
 * the calling identity for the blocklist.
 */
import type { Db } from '../store/db.ts';
import { findDeviceById } from '../store/devices.ts';
import type { Trunk } from '../store/trunks.ts';
import type { Call } from './call.ts';
import type { CallOrigin, CallRouter, RouteDecision } from './call-router.ts';
import { SipUacLeg } from './leg-sip-uac.ts';

export interface TransferRouteDeps {
  db: Db;
  trunks(): Promise<Trunk[]>;
  router: CallRouter;
}

/** Routes `dialed` as if the party on `side` of `call` dialled it (`null`: the PBX, for the API). */
export async function transferRoute(deps: TransferRouteDeps, dialed: string, call: Call, side: 'a' | 'b' | null): Promise<RouteDecision> {
  const origin: CallOrigin = {};
  let deviceId: number | null = null;
  let trunk: Trunk | undefined;
  if (side === 'a') {
    deviceId = call.origin.callerDeviceId;
    if (call.origin.trunkId !== null) trunk = (await deps.trunks()).find((t) => t.id === call.origin.trunkId);
  } else if (side === 'b') {
    const b = call.partyB;
    const won = b instanceof SipUacLeg ? b.callTarget : undefined;
    if (won?.kind === 'trunk') trunk = won.trunk;
    else deviceId = call.callStart().callee_device_id ?? null;
  }
  if (deviceId !== null) {
    const row = await findDeviceById(deps.db, deviceId);
    if (row) origin.device = { id: row.id, username: row.username, callerId: row.caller_id ?? null };
  } else if (trunk) {
    origin.trunk = trunk;
  }
  const caller = side === 'b' ? call.origin.callee : call.origin.caller;
  return deps.router(dialed, origin.device?.username ?? caller, origin);
}
