/**
 * `/api/provisioning` (seed 003), the catalogue side: vendors we render configurations for,
 * profiles (a vendor plus settings; admin writes), and binding a device to a profile.
 * A device without a profile gets its vendor's defaults (its `type`), or the generic JSON.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { badRequest, errorResponses, notFound, validationError } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { currentUser } from '../shared/auth.ts';
import {
  bindDeviceProfile, deleteProfile, findProfile, insertProfile, listProfiles, toProvisioningProfile, updateProfile,
} from '../../store/provisioning-profiles.ts';
import { insertDeviceEvent } from '../../store/device-events.ts';
import { ProfileConfig, vendorProblems } from '../../pbx/provisioning/profile-config.ts';
import { VENDORS, findVendor } from '../../pbx/provisioning/vendors/index.ts';
import { generic } from '../../pbx/provisioning/vendors/generic.ts';
import { visibleDevice } from './devices.ts';
import { IdParams, Ok } from './schemas.ts';

const VendorSchema = Type.Object({
  id: Type.String(), name: Type.String(), models: Type.Array(Type.String()),
  format: Type.String({ description: 'xml | cfg | json' }), content_type: Type.String(), file_name: Type.String(),
  codecs: Type.Array(Type.String()), setting_key: Type.String({ description: 'Syntax of raw keys under config.settings' }),
}, { examples: [{ id: 'yealink', name: 'Yealink', models: ['T4x'], format: 'cfg', content_type: 'text/plain; charset=utf-8', file_name: '<mac>.cfg', codecs: ['PCMU', 'PCMA', 'G722', 'opus'], setting_key: 'a dotted key such as phone_setting.backlight_time' }] });

const ProfileSchema = Type.Object({
  id: Type.Integer(), name: Type.String(), vendor: Type.String(), config: ProfileConfig,
  created_at: Type.String({ format: 'date-time' }), updated_at: Type.String({ format: 'date-time' }),
});

const VendorId = Type.String({ minLength: 1, maxLength: 32, examples: ['grandstream'] });
const ProfileBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  vendor: VendorId,
  config: Type.Optional(ProfileConfig),
}, { examples: [{ name: 'Standard Office', vendor: 'grandstream', config: {} }] });
const ProfilePatch = Type.Partial(ProfileBody);

const BindBody = Type.Object({
  device_id: Type.Integer({ minimum: 1 }),
  profile_id: Type.Union([Type.Null(), Type.Integer({ minimum: 1 })], { description: 'null unbinds (vendor defaults)' }),
}, { examples: [{ device_id: 1, profile_id: 1 }] });
const Binding = Type.Object({ device_id: Type.Integer(), profile_id: Type.Union([Type.Integer(), Type.Null()]), vendor: Type.String() });

/** The vendor and config of a profile body, checked together; throws the 400 the API answers. */
function checkedProfile(body: { name: string; vendor: string; config?: ProfileConfig }, tlsOn: boolean) {
  const vendor = findVendor(body.vendor);
  if (!vendor) throw validationError([{ field: 'vendor', message: `unknown vendor; one of ${VENDORS.map((v) => v.id).join(', ')}` }]);
  const config = body.config ?? {};
  const problems = vendorProblems(vendor, config);
  if (config.transport === 'tls' && !tlsOn && config.sip_port === undefined) {
    problems.push({ field: 'config.transport', message: 'SIP over TLS is off on this server (STROWGER_SIP_TLS_PORT=off): set sip_port or another transport' });
  }
  if (problems.length) throw validationError(problems);
  return { name: body.name, vendor: vendor.id, config };
}

export async function provisioningProfileRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const admin = { auth: 'admin' as const };
  const tags = ['provisioning'];
  const tlsOn = ctx.config.sip.tlsPort !== null;

  app.get('/provisioning/vendors', {
    schema: { tags, summary: 'Vendors whose phones we generate configurations for', response: { 200: ListOf(VendorSchema), ...errorResponses(401) } },
  }, async () => page(VENDORS.map((v) => ({
    id: v.id, name: v.name, models: [...v.models], format: v.format, content_type: v.contentType, file_name: v.fileName, codecs: [...v.codecs], setting_key: v.settingKeyHint,
  })), VENDORS.length, { limit: VENDORS.length, offset: 0 }));

  app.get('/provisioning/profiles', {
    schema: { tags, summary: 'List provisioning profiles', querystring: PaginationQuery, response: { 200: ListOf(ProfileSchema), ...errorResponses(400, 401) } },
  }, async (req) => {
    const { rows, total } = await listProfiles(db, req.query.limit, req.query.offset);
    return page(rows.map(toProvisioningProfile), total, req.query);
  });

  app.get('/provisioning/profiles/:id', {
    schema: { tags, summary: 'Get a provisioning profile', params: IdParams, response: { 200: ProfileSchema, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const row = await findProfile(db, req.params.id);
    if (!row) throw notFound('Profile');
    return toProvisioningProfile(row);
  });

  app.post('/provisioning/profiles', {
    config: admin,
    schema: { tags, summary: 'Create a provisioning profile (admin); config is validated for the vendor', body: ProfileBody, response: { 201: ProfileSchema, ...errorResponses(400, 401, 403) } },
  }, async (req, reply) => {
    const row = await insertProfile(db, checkedProfile(req.body, tlsOn));
    return reply.status(201).send(toProvisioningProfile(row));
  });

  app.put('/provisioning/profiles/:id', {
    config: admin,
    schema: { tags, summary: 'Update a provisioning profile (admin); fields left out keep their value', params: IdParams, body: ProfilePatch, response: { 200: ProfileSchema, ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    const before = await findProfile(db, req.params.id);
    if (!before) throw notFound('Profile');
    const current = toProvisioningProfile(before);
    const merged = { name: req.body.name ?? current.name, vendor: req.body.vendor ?? current.vendor, config: req.body.config ?? current.config as ProfileConfig };
    const row = await updateProfile(db, req.params.id, checkedProfile(merged, tlsOn));
    if (!row) throw notFound('Profile');
    return toProvisioningProfile(row);
  });

  app.delete('/provisioning/profiles/:id', {
    config: admin,
    schema: { tags, summary: 'Delete a provisioning profile (admin); its devices fall back to vendor defaults', params: IdParams, response: { 200: Ok, ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    if (!(await deleteProfile(db, req.params.id))) throw notFound('Profile');
    return { success: true };
  });

  app.post('/provisioning/device', {
    schema: { tags, summary: 'Bind a device to a profile (its owner or an admin)', body: BindBody, response: { 200: Binding, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const device = await visibleDevice(db, currentUser(req), req.body.device_id);
    const profile = req.body.profile_id === null ? undefined : await findProfile(db, req.body.profile_id);
    if (req.body.profile_id !== null && !profile) throw badRequest('No such profile', [{ field: 'profile_id', message: 'not found' }]);
    if (!(await bindDeviceProfile(db, device.id, profile?.id ?? null))) throw notFound('Device');
    const vendor = (findVendor(profile?.vendor ?? device.type) ?? generic).id;
    await insertDeviceEvent(db, {
      deviceId: device.id, category: 'provisioning', type: 'profile_bound',
      detail: profile ? `profile ${profile.id} "${profile.name}" (${vendor})` : `profile removed (${vendor} defaults)`, sourceIp: req.ip,
    });
    return { device_id: device.id, profile_id: profile?.id ?? null, vendor };
  });
}
