/**
 * Where a new call goes: blocklist, then the DID's routes for calls from trunks, device
 * usernames and the default trunk for calls from devices. Pure decisions over the store and
 * the location service; the B2BUA carries them out.
 */
import type { Db } from '../store/db.ts';
import type { Binding } from '../store/registrations.ts';
import { findDeviceById, findDeviceByUsername } from '../store/devices.ts';
import type { Trunk } from '../store/trunks.ts';
import type { CdrDirection, CdrDisposition, HangupCause } from '../store/cdrs.ts';
import type { DeviceRow } from '../store/schema.ts';
import { matchesAnyPattern } from './phone-number.ts';
import { evaluateRoutes } from './evaluate-routes.ts';
import type { LocationService } from './location-service.ts';
import type { RouterCache } from './call-router-cache.ts';

export type CallTarget =
  | { kind: 'contact'; deviceId: number; binding: Binding }
  | { kind: 'trunk'; trunk: Trunk; number: string };

export interface CallOrigin {
  /** The calling device, when the INVITE was authenticated as one. */
  device?: { id: number; username: string; callerId: string | null };
  /** The trunk, when the INVITE came from its inbound hosts. */
  trunk?: Trunk;
}

export type RouteDecision =
  | { kind: 'reject'; status: number; reason: string; disposition: CdrDisposition; cause: HangupCause; direction: CdrDirection; didId?: number | null; didNumber?: string | null }
  | {
    kind: 'dial';
    targets: CallTarget[];
    direction: CdrDirection;
    ringTimeoutMs: number;
    didId: number | null;
    didNumber: string | null;
    calleeDeviceId: number | null;
    /** Caller id presented on the outgoing leg. */
    callerId: string;
  };

export interface RouterDeps {
  db: Db;
  /** Trunks, DIDs, routes, blocklist and users' DND without a query per call. */
  cache: RouterCache;
  location: LocationService;
  defaultRingTimeoutMs: number;
  now?: () => Date;
}

export function createCallRouter(deps: RouterDeps) {
  const { db, location, cache } = deps;

  /** A device's live contacts, or the reason it cannot ring. */
  async function deviceTargets(device: DeviceRow): Promise<{ targets: CallTarget[] } | { status: number; reason: string; disposition: CdrDisposition; cause: HangupCause }> {
    const ownerDnd = device.user_id !== null && (await cache.dndUsers()).has(device.user_id);
    if (device.dnd_enabled === 1 || ownerDnd) return { status: 486, reason: 'Busy Here (DND)', disposition: 'busy', cause: 'dnd' };
    const bindings = location.lookup(device.username);
    if (bindings.length === 0) return { status: 480, reason: 'Temporarily Unavailable', disposition: 'failed', cause: 'unavailable' };
    return { targets: bindings.map((binding) => ({ kind: 'contact' as const, deviceId: device.id, binding })) };
  }

  async function devicesTargets(ids: number[]): Promise<{ targets: CallTarget[]; calleeDeviceId: number | null } | { status: number; reason: string; disposition: CdrDisposition; cause: HangupCause }> {
    const targets: CallTarget[] = [];
    let lastFailure: { status: number; reason: string; disposition: CdrDisposition; cause: HangupCause } | null = null;
    for (const id of ids) {
      const device = await findDeviceById(db, id);
      if (!device) continue;
      const r = await deviceTargets(device);
      if ('targets' in r) targets.push(...r.targets); else lastFailure = r;
    }
    if (targets.length === 0) return lastFailure ?? { status: 480, reason: 'Temporarily Unavailable', disposition: 'failed', cause: 'unavailable' };
    return { targets, calleeDeviceId: ids.length === 1 ? ids[0]! : null };
  }

  async function trunkTarget(number: string): Promise<CallTarget[] | null> {
    const trunk = await cache.defaultTrunk();
    return trunk ? [{ kind: 'trunk', trunk, number }] : null;
  }

  return async function route(dialed: string, caller: string, origin: CallOrigin): Promise<RouteDecision> {
    const direction: CdrDirection = origin.trunk ? 'inbound' : 'internal';
    const blocked = await cache.blocklistSnapshot();
    if (blocked.exact.has(caller) || matchesAnyPattern(blocked.patterns, caller)) {
      return { kind: 'reject', status: 603, reason: 'Decline', disposition: 'blocked', cause: 'blocked', direction };
    }

    if (origin.trunk) {
      const did = await cache.did(dialed) ?? (dialed.startsWith('+') ? undefined : await cache.did(`+${dialed}`));
      if (!did) return { kind: 'reject', status: 404, reason: 'Not Found', disposition: 'failed', cause: 'no_route', direction };
      const base = { direction, didId: did.id, didNumber: did.phone_number };
      const chosen = evaluateRoutes(await cache.routesFor(did.id), { did: did.id, caller }, (deps.now ?? (() => new Date()))());
      if (!chosen) return { kind: 'reject', status: 404, reason: 'Not Found', disposition: 'failed', cause: 'no_route', ...base };
      switch (chosen.action) {
        case 'reject': {
          const code = chosen.action_data.code ?? 603;
          return { kind: 'reject', status: code, reason: chosen.action_data.reason ?? (code === 603 ? 'Decline' : 'Rejected'), disposition: 'rejected', cause: 'rejected', ...base };
        }
        case 'voicemail':
          // Voicemail lands with its own issue; until then the caller hears "unavailable".
          return { kind: 'reject', status: 480, reason: 'Temporarily Unavailable', disposition: 'failed', cause: 'voicemail_unavailable', ...base };
        case 'ring': {
          const r = await devicesTargets(chosen.action_data.device_ids);
          if (!('targets' in r)) return { kind: 'reject', ...r, ...base };
          const timeout = chosen.action_data.timeout ? chosen.action_data.timeout * 1000 : deps.defaultRingTimeoutMs;
          return { kind: 'dial', targets: r.targets, ringTimeoutMs: timeout, calleeDeviceId: r.calleeDeviceId, callerId: caller, ...base };
        }
        case 'forward': {
          const data = chosen.action_data;
          if ('device_id' in data) {
            const r = await devicesTargets([data.device_id]);
            if (!('targets' in r)) return { kind: 'reject', ...r, ...base };
            return { kind: 'dial', targets: r.targets, ringTimeoutMs: deps.defaultRingTimeoutMs, calleeDeviceId: data.device_id, callerId: caller, ...base };
          }
          const targets = await trunkTarget(data.number);
          if (!targets) return { kind: 'reject', status: 503, reason: 'No Trunk Configured', disposition: 'failed', cause: 'no_route', ...base };
          return { kind: 'dial', targets, ringTimeoutMs: deps.defaultRingTimeoutMs, calleeDeviceId: null, callerId: caller, ...base };
        }
      }
    }

    // From a device: another device by username, else out through the default trunk.
    const device = await findDeviceByUsername(db, dialed);
    if (device) {
      const r = await deviceTargets(device);
      if (!('targets' in r)) return { kind: 'reject', ...r, direction: 'internal' };
      return { kind: 'dial', targets: r.targets, direction: 'internal', ringTimeoutMs: deps.defaultRingTimeoutMs, didId: null, didNumber: null, calleeDeviceId: device.id, callerId: origin.device?.username ?? caller };
    }
    if (/^\+?[0-9*#]{2,32}$/.test(dialed)) {
      const targets = await trunkTarget(dialed);
      if (targets) {
        const did = origin.device?.callerId ?? origin.device?.username ?? caller;
        return { kind: 'dial', targets, direction: 'outbound', ringTimeoutMs: deps.defaultRingTimeoutMs, didId: null, didNumber: null, calleeDeviceId: null, callerId: did };
      }
    }
    return { kind: 'reject', status: 404, reason: 'Not Found', disposition: 'failed', cause: 'no_route', direction: 'internal' };
  };
}

export type CallRouter = ReturnType<typeof createCallRouter>;
