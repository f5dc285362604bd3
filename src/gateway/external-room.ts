/**
 * Gateways in an external conference system (seed 001's `webrtc_domain` naming one): the
 * gateway runs as usual in a private local "bridge" room, and a `ConferenceAdapter` links that
 * room to the external one — WHIP publishes the bridge's mix (the gateway's audio), WHEP pulls
 * the external room's audio in. Without WHIP/WHEP URLs in `webrtc_domain` the gateway joins the
 * built-in room of its name (the default).
 *
 * `webrtc_domain` naming a WHIP/WHEP system: its first entry (the seed's `{"<name>": {…}}`)
 * carries `whip` and/or `whep` (http(s) URLs) and optionally `token` (Bearer for both):
 * `{"sfu": {"name": "SFU", "domain": "sfu.example", "whip": "https://sfu.example/whip/r1",
 *   "whep": "https://sfu.example/whep/r1", "token": "…"}}`; or only a `domain` that the operator
 * configured (`STROWGER_CONFERENCE_SYSTEMS`), so API callers need not know URLs or tokens —
 * seed 000's `domain` parameter selects a system that way.
 */
import type { ConferenceAdapter, ConferenceLink } from '../rooms/conference-adapter.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { Room } from '../rooms/room.ts';
import { GatewayError } from './gateway-errors.ts';

export interface ExternalSystem {
  whipUrl?: string;
  whepUrl?: string;
  token?: string;
}

/** What a WHIP/WHEP URL must look like, in a request's `webrtc_domain` and in `STROWGER_CONFERENCE_SYSTEMS`. */
export const HTTP_URL = /^https?:\/\/\S+$/i;

function url(entry: Record<string, unknown>, field: 'whip' | 'whep'): string | undefined {
  const v = entry[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !HTTP_URL.test(v)) throw new GatewayError('GW_BAD_REQUEST', `webrtc_domain ${field} must be an http(s) URL`);
  return v;
}

/**
 * An external system the operator configured, by the domain API callers name: URLs may hold
 * `{room}`, replaced by the gateway's room name (URL-encoded).
 */
export interface ConfiguredSystem {
  whip?: string;
  whep?: string;
  token?: string;
}

/** Configured systems by lower-case domain (`STROWGER_CONFERENCE_SYSTEMS`). */
export type ConferenceSystems = ReadonlyMap<string, ConfiguredSystem>;

/** The configured system of `domain` with `{room}` filled in, or null when none is configured. */
export function configuredSystem(systems: ConferenceSystems, domain: unknown, room: string): ExternalSystem | null {
  if (typeof domain !== 'string') return null;
  const c = systems.get(domain.trim().toLowerCase());
  if (c === undefined) return null;
  const fill = (u: string | undefined): string | undefined => u?.replaceAll('{room}', encodeURIComponent(room));
  return { whipUrl: fill(c.whip), whepUrl: fill(c.whep), token: c.token };
}

/**
 * The external system `webrtc_domain` names, or null for the built-in rooms: URLs given in the
 * entry, else the configured system of its `domain`.
 * @throws GatewayError GW_BAD_REQUEST (a `whip`/`whep`/`token` of the wrong form).
 */
export function externalSystemOf(webrtcDomain: unknown, room = '', systems: ConferenceSystems = new Map()): ExternalSystem | null {
  if (webrtcDomain === null || typeof webrtcDomain !== 'object' || Array.isArray(webrtcDomain)) return null;
  const entry = Object.values(webrtcDomain)[0];
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return null;
  const e = entry as Record<string, unknown>;
  const whipUrl = url(e, 'whip');
  const whepUrl = url(e, 'whep');
  if (whipUrl === undefined && whepUrl === undefined) return configuredSystem(systems, e.domain, room);
  if (e.token !== undefined && typeof e.token !== 'string') throw new GatewayError('GW_BAD_REQUEST', 'webrtc_domain token must be a string');
  return { whipUrl, whepUrl, token: e.token as string | undefined };
}

/** The bridge room of a gateway: a name of its own (`ext.<gw_id>`, cut to the room-name rules). */
export const bridgeRoomName = (gwId: string): string => `ext.${gwId.replace(/[^A-Za-z0-9_.-]/g, '_')}`.slice(0, 64);

export interface ExternalRoom {
  /** The local bridge room the gateway runs in. */
  room: Room;
  links: ConferenceLink[];
  /** Ends the WHIP/WHEP sessions and closes the bridge room. */
  close(): Promise<void>;
}

/**
 * Opens the bridge room and links it (publish and/or pull, as the system offers).
 * @throws GatewayError GW_UNAVAILABLE (the external system refused or did not answer); nothing is left open.
 */
export async function openExternalRoom(rooms: RoomRegistry, adapter: ConferenceAdapter, system: ExternalSystem, gwId: string, displayName: string): Promise<ExternalRoom> {
  const room = rooms.open(bridgeRoomName(gwId));
  const links: ConferenceLink[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(links.map((l) => l.close()));
    if (!room.closed) await room.close('gateway stopped');
  };
  try {
    if (system.whipUrl !== undefined) links.push(await adapter.publish(room, { displayName: `${displayName} (WHIP)` }));
    if (system.whepUrl !== undefined) links.push(await adapter.pull(room, { displayName: `${displayName} (WHEP)` }));
  } catch (err) {
    await close().catch(() => {});
    throw new GatewayError('GW_UNAVAILABLE', `the external conference system: ${(err as Error).message}`);
  }
  return { room, links, close };
}
