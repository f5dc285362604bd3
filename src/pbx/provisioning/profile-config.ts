/**
 * A profile's `config`: the settings common to every vendor (TypeBox, so validation and the
 * OpenAPI spec agree) plus raw vendor keys under `settings`, whose syntax each vendor
 * defines. Values never hold control characters: the key=value formats are line-based, so a
 * newline in a value would let it write a key of its own.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FieldError } from '../../api/shared/errors.ts';
import { CODECS, DTMF_MODES, SRTP_MODES, TRANSPORTS } from './account.ts';
import type { VendorSpec } from './vendor-spec.ts';

/** A string enum typed as its members (an OpenAPI `enum`). */
const literals = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });
const HOST = '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]+)$';
const SINGLE_LINE = '^[^\\x00-\\x1f\\x7f]*$';

export const ProfileConfig = Type.Object({
  transport: Type.Optional(literals(TRANSPORTS)),
  sip_server: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: HOST, description: 'Host the phone registers to; default STROWGER_PUBLIC_IP, else STROWGER_DOMAIN' })),
  sip_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default: the server\'s SIP port for the transport' })),
  register_expires: Type.Optional(Type.Integer({ minimum: 60, maximum: 86400, description: 'Seconds; default 3600' })),
  codecs: Type.Optional(Type.Array(literals(CODECS), { minItems: 1, uniqueItems: true, description: 'Preference order; default PCMU, PCMA, G722, opus (those the vendor supports)' })),
  dtmf_mode: Type.Optional(literals(DTMF_MODES)),
  srtp: Type.Optional(literals(SRTP_MODES)),
  ntp_server: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: HOST })),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+/-]+$', examples: ['Europe/Berlin'] })),
  settings: Type.Optional(Type.Record(
    Type.String({ maxLength: 64 }),
    Type.String({ maxLength: 512, pattern: SINGLE_LINE }),
    { description: 'Raw vendor keys written as given (e.g. Grandstream P-values); see GET /api/provisioning/vendors for each vendor\'s key syntax. Values are text: numbers and booleans are stored as their text' },
  )),
}, { additionalProperties: false, examples: [{ transport: 'udp', codecs: ['G722', 'PCMU'], dtmf_mode: 'rfc4733', settings: { P1362: 'en' } }] });
export type ProfileConfig = Static<typeof ProfileConfig>;

const MAX_SETTINGS = 200;

/** What the shared schema cannot say: codecs and setting keys the vendor does not have. */
export function vendorProblems(vendor: VendorSpec, config: ProfileConfig): FieldError[] {
  const problems: FieldError[] = [];
  for (const c of config.codecs ?? []) {
    if (!vendor.codecs.includes(c)) problems.push({ field: 'config.codecs', message: `${vendor.name} does not support ${c} (supported: ${vendor.codecs.join(', ')})` });
  }
  const keys = Object.keys(config.settings ?? {});
  if (keys.length > MAX_SETTINGS) problems.push({ field: 'config.settings', message: `at most ${MAX_SETTINGS} settings` });
  for (const k of keys) {
    if (!vendor.settingKey.test(k)) problems.push({ field: `config.settings.${k}`, message: `not a ${vendor.name} key: expected ${vendor.settingKeyHint}` });
  }
  return problems;
}
