/**
 * A phone's configuration fetched by token (`GET /api/provision/{token}`): the token's state
 * decides, then the device's profile (or its vendor's defaults) is rendered with the device's
 * credentials. Every outcome is logged as a provisioning event of the device (unknown tokens
 * without a device), so an admin sees who fetched what from where.
 */
import { findDeviceById } from '../../store/devices.ts';
import { findProfile } from '../../store/provisioning-profiles.ts';
import { findTokenByPlaintext, recordTokenUse, tokenState } from '../../store/provisioning-tokens.ts';
import { insertDeviceEvent } from '../../store/device-events.ts';
import type { SecretBox } from '../../store/secret-box.ts';
import type { Db } from '../../store/db.ts';
import { buildAccount, type ServerSide } from './build-account.ts';
import type { ProfileConfig } from './profile-config.ts';
import { findVendor } from './vendors/index.ts';
import { generic } from './vendors/generic.ts';

export type FetchOutcome =
  | { kind: 'ok'; body: string; contentType: string; deviceId: number; vendor: string }
  | { kind: 'unknown' }
  | { kind: 'revoked'; deviceId: number }
  | { kind: 'expired'; deviceId: number };

export interface FetchRequest {
  token: string;
  sourceIp: string;
  userAgent: string | undefined;
}

export async function fetchDeviceConfig(db: Db, box: SecretBox, server: ServerSide, req: FetchRequest): Promise<FetchOutcome> {
  const outcome = await resolve(db, box, server, req.token);
  const deviceId = outcome.kind === 'unknown' ? null : outcome.deviceId;
  const ua = req.userAgent ? ` by "${req.userAgent.slice(0, 200)}"` : '';
  const detail = outcome.kind === 'ok' ? `configuration fetched (${outcome.vendor})${ua}` : `fetch refused: ${outcome.kind} token${ua}`;
  await insertDeviceEvent(db, { deviceId, category: 'provisioning', type: outcome.kind === 'ok' ? 'fetched' : `fetch_${outcome.kind}`, detail, sourceIp: req.sourceIp });
  return outcome;
}

async function resolve(db: Db, box: SecretBox, server: ServerSide, token: string): Promise<FetchOutcome> {
  // Malformed and unknown look alike to the caller: neither tells whether a device exists.
  const row = await findTokenByPlaintext(db, token);
  if (!row) return { kind: 'unknown' };
  const state = tokenState(row);
  if (state === 'revoked') return { kind: 'revoked', deviceId: row.device_id };
  if (state === 'expired') return { kind: 'expired', deviceId: row.device_id };
  const device = await findDeviceById(db, row.device_id);
  if (!device) return { kind: 'unknown' };
  const profile = device.provisioning_profile_id === null ? undefined : await findProfile(db, device.provisioning_profile_id);
  const vendor = findVendor(profile?.vendor ?? device.type) ?? generic;
  const config = profile ? JSON.parse(profile.config) as ProfileConfig : {};
  const account = buildAccount(vendor, { username: device.username, password: box.open(device.password_enc), name: device.name }, config, server);
  await recordTokenUse(db, row.id);
  return { kind: 'ok', body: vendor.render(account), contentType: vendor.contentType, deviceId: device.id, vendor: vendor.id };
}
