/**
 * Where a new call goes: blocklist, then the DID's routes for calls from trunks, device
 * usernames and the default trunk for calls from devices. Pure decisions over the store and
 * the location service; the B2BUA carries them out.
 */
import type { Db } from '../store/db.ts';
import type { Binding } from '../store/registrations.ts';
import { findDeviceById, findDeviceByUsername, toSrtpPolicy, type SrtpPolicy } from '../store/devices.ts';
import type { Trunk } from '../store/trunks.ts';
import type { CdrDirection, CdrDisposition, HangupCause } from '../store/cdrs.ts';
import type { DeviceRow } from '../store/schema.ts';
import { matchesAnyPattern } from './phone-number.ts';
import { evaluateRoutes } from './evaluate-routes.ts';
import type { LocationService } from './location-service.ts';
import type { RouterCache } from './call-router-cache.ts';
import type { LocalTarget } from './call-local.ts';

export type CallTarget =
  | { kind: 'contact'; deviceId: number; binding: Binding; srtp?: SrtpPolicy }
  | { kind: 'trunk'; trunk: Trunk; number: string };

export interface CallOrigin {
  /** The calling device, when the INVITE was authenticated as one. */
  device?: { id: number; username: string; callerId: string | null; srtp?: SrtpPolicy };
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
    /** Answered by the PBX itself (voicemail, mailbox menu); `targets` is then empty. */
    local?: LocalTarget;
    /** Where the call goes when the targets are busy or do not answer (voicemail). */
    fallback?: LocalTarget;
  };

export interface RouterDeps {
  db: Db;
  /** Trunks, DIDs, routes, blocklist and users' DND without a query per call. */
  cache: RouterCache;
  location: LocationService;
  defaultRingTimeoutMs: number;
  /** What a device dials for its own mailbox menu (e.g. `*97`); none: no menu. */
  voicemailNumber?: string;
  /** User parts that reach rooms and the room IVR (`src/rooms/room-dial-plan.ts`); asked first. */
  rooms?: { resolve(userPart: string): Extract<LocalTarget, { kind: 'room' | 'ivr' }> | undefined };
  now?: () => Date;
}

type Failure = { status: number; reason: string; disposition: CdrDisposition; cause: HangupCause };

/** A device's mailbox, or undefined when the device does not take voicemail. */
function deviceMailbox(device: DeviceRow | undefined): LocalTarget | undefined {
  return device?.voicemail_enabled === 1 ? { kind: 'voicemail', mailbox: { kind: 'device', id: device.id } } : undefined;
}

export function createCallRouter(deps: RouterDeps) {
  const { db, location, cache } = deps;

  /** A device's live contacts, or the reason it cannot ring. */
  async function deviceTargets(device: DeviceRow): Promise<{ targets: CallTarget[] } | Failure> {
    const ownerDnd = device.user_id !== null && (await cache.dndUsers()).has(device.user_id);
    if (device.dnd_enabled === 1 || ownerDnd) return { status: 486, reason: 'Busy Here (DND)', disposition: 'busy', cause: 'dnd' };
    const bindings = location.lookup(device.username);
    if (bindings.length === 0) return { status: 480, reason: 'Temporarily Unavailable', disposition: 'failed', cause: 'unavailable' };
    return { targets: bindings.map((binding) => ({ kind: 'contact' as const, deviceId: device.id, binding, srtp: toSrtpPolicy(device.srtp) })) };
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

  /**
   * Voicemail when the devices of a ring (or forward) cannot take the call: with the route's
   * `voicemail_fallback`, the one device's mailbox (several devices: the DID's); without it,
   * the one device's mailbox when the device has `voicemail_enabled`.
   */
  async function ringFallback(ids: readonly number[], routeSays: boolean, didId: number): Promise<LocalTarget | undefined> {
    if (routeSays) return { kind: 'voicemail', mailbox: ids.length === 1 ? { kind: 'device', id: ids[0]! } : { kind: 'did', id: didId } };
    return ids.length === 1 ? deviceMailbox(await findDeviceById(db, ids[0]!)) : undefined;
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
    const room = deps.rooms?.resolve(dialed);
    if (room !== undefined) {
      return { kind: 'dial', targets: [], local: room, direction, ringTimeoutMs: 0, didId: null, didNumber: null, calleeDeviceId: null, callerId: origin.device?.username ?? caller };
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
        case 'voicemail': {
          const deviceId = chosen.action_data.device_id;
          const local: LocalTarget = { kind: 'voicemail', mailbox: deviceId === undefined ? { kind: 'did', id: did.id } : { kind: 'device', id: deviceId } };
          return { kind: 'dial', targets: [], local, ringTimeoutMs: deps.defaultRingTimeoutMs, calleeDeviceId: deviceId ?? null, callerId: caller, ...base };
        }
        case 'ring': {
          const ids = chosen.action_data.device_ids;
          const fallback = await ringFallback(ids, chosen.action_data.voicemail_fallback === true, did.id);
          const r = await devicesTargets(ids);
          if (!('targets' in r)) return fallback ? { kind: 'dial', targets: [], local: fallback, ringTimeoutMs: 0, calleeDeviceId: ids.length === 1 ? ids[0]! : null, callerId: caller, ...base } : { kind: 'reject', ...r, ...base };
          const timeout = chosen.action_data.timeout ? chosen.action_data.timeout * 1000 : deps.defaultRingTimeoutMs;
          return { kind: 'dial', targets: r.targets, ringTimeoutMs: timeout, calleeDeviceId: r.calleeDeviceId, callerId: caller, fallback, ...base };
        }
        case 'forward': {
          const data = chosen.action_data;
          if ('device_id' in data) {
            const fallback = await ringFallback([data.device_id], data.voicemail_fallback === true, did.id);
            const r = await devicesTargets([data.device_id]);
            if (!('targets' in r)) return fallback ? { kind: 'dial', targets: [], local: fallback, ringTimeoutMs: 0, calleeDeviceId: data.device_id, callerId: caller, ...base } : { kind: 'reject', ...r, ...base };
            return { kind: 'dial', targets: r.targets, ringTimeoutMs: deps.defaultRingTimeoutMs, calleeDeviceId: data.device_id, callerId: caller, fallback, ...base };
          }
          const targets = await trunkTarget(data.number);
          if (!targets) return { kind: 'reject', status: 503, reason: 'No Trunk Configured', disposition: 'failed', cause: 'no_route', ...base };
          return { kind: 'dial', targets, ringTimeoutMs: deps.defaultRingTimeoutMs, calleeDeviceId: null, callerId: caller, ...base };
        }
      }
    }

    // From a device: its mailbox menu, another device by username, else out through the default trunk.
    const internal = { direction: 'internal' as const, ringTimeoutMs: deps.defaultRingTimeoutMs, didId: null, didNumber: null, callerId: origin.device?.username ?? caller };
    if (origin.device && deps.voicemailNumber !== undefined && dialed === deps.voicemailNumber) {
      return { kind: 'dial', targets: [], local: { kind: 'voicemail-menu', deviceId: origin.device.id }, calleeDeviceId: origin.device.id, ...internal };
    }
    const device = await findDeviceByUsername(db, dialed);
    if (device) {
      const fallback = deviceMailbox(device);
      const r = await deviceTargets(device);
      if (!('targets' in r)) return fallback ? { kind: 'dial', targets: [], local: fallback, calleeDeviceId: device.id, ...internal } : { kind: 'reject', ...r, direction: 'internal' };
      return { kind: 'dial', targets: r.targets, calleeDeviceId: device.id, fallback, ...internal };
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
