/**
 * The fields of an app's phone number, one TypeBox schema for the admin API
 * (`/api/call-numbers`) and the sync answer (STROWGER_NUMBERS_SYNC_URL), plus the checks a
 * schema cannot express (CIDR blocks, the app existing).
 */
import { Type, type Static } from '@sinclair/typebox';
import { formatCidr, parseCidr } from '../store/trunk-match.ts';
import { HOOK_CONTENT_TYPES, type CallNumberFields } from '../store/call-numbers.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([Type.Null(), t]);
const DigestUser = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\x00-\\x1f\\x7f"\\\\]+$' });
export const SipAuth = Type.Object({ username: DigestUser, password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
const HostPort = Type.String({ minLength: 1, maxLength: 255, pattern: '^(sips?:)?[^\\s<>"@;]+$', description: '`host[:port]` or a sip: URI', examples: ['sip.carrier.example:5060'] });
export const HookUrl = Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://', description: 'http(s) URL receiving the hook events', examples: ['https://app.example/hooks/calls'] });
export const HookContentType = Type.Union(HOOK_CONTENT_TYPES.map((t) => Type.Literal(t)), { description: 'Json | Protobuf (proto/callgw.proto)' });
export const PhoneNumber = Type.String({ minLength: 1, maxLength: 32, pattern: '^\\+?[0-9*#]{1,31}$', examples: ['+15550001111'] });

export const numberFields = {
  number: PhoneNumber,
  app_id: Type.String({ minLength: 1, maxLength: 64 }),
  subnets: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100, description: 'CIDR blocks allowed to deliver incoming calls; [] = none', examples: [['127.0.0.1/32']] })),
  auth: Type.Optional(Type.Union([Type.Null(), SipAuth], { description: 'Digest credentials required from callers of this number' })),
  hook: Type.Optional(Nullable(HookUrl)),
  hook_content_type: Type.Optional(HookContentType),
  sip_server: Type.Optional(Nullable(HostPort)),
  sip_proxy: Type.Optional(Nullable(HostPort)),
  sip_auth: Type.Optional(Type.Union([Type.Null(), SipAuth], { description: 'Digest credentials of outgoing calls from this number' })),
};
export const CallNumberInput = Type.Object(numberFields, { additionalProperties: false });
export type CallNumberInput = Static<typeof CallNumberInput>;

/** Canonical CIDR text of `subnets`, or the index of the first entry that is not one. */
export function canonicalSubnets(list: readonly string[]): { ok: string[] } | { bad: number } {
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const c = parseCidr(list[i]!.trim());
    if (!c) return { bad: i };
    const t = formatCidr(c);
    if (!out.includes(t)) out.push(t);
  }
  return { ok: out };
}

/** Input (validated by the schema) as store fields with defaults; a string error for bad subnets. */
export function toNumberFields(b: CallNumberInput): CallNumberFields | string {
  const subnets = canonicalSubnets(b.subnets ?? []);
  if ('bad' in subnets) return `subnets.${subnets.bad} must be an IPv4 or IPv6 address or CIDR block`;
  return {
    number: b.number, app_id: b.app_id, subnets: subnets.ok, auth: b.auth ?? null, hook: b.hook ?? null,
    hook_content_type: b.hook_content_type ?? 'Json', sip_server: b.sip_server ?? null, sip_proxy: b.sip_proxy ?? null, sip_auth: b.sip_auth ?? null,
  };
}
