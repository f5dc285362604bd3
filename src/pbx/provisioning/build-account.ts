/** The account a device's configuration describes: device fields, profile settings, server defaults. */
import { CODECS, type PhoneAccount, type Transport } from './account.ts';
import type { ProfileConfig } from './profile-config.ts';
import type { VendorSpec } from './vendor-spec.ts';

export interface ServerSide {
  domain: string;
  /** Address phones reach the server at: the public IP when configured, else the domain. */
  host: string;
  sipPort: number;
  /** null: TLS is off on the server. */
  tlsPort: number | null;
}

const DEFAULT_EXPIRES = 3600;

/**
 * Line-based formats (Yealink, Fanvil) cannot carry control characters: a newline in a device
 * name would start a key of its own. Device names and passwords are free text in the API, so
 * they are cleaned here, once, for every vendor.
 */
const oneLine = (v: string) => v.replace(/[\x00-\x1f\x7f]/g, ' ');
/** TLS port phones are told when TLS is off here but a profile asks for it anyway (RFC 3261 §19.1.2). */
const TLS_DEFAULT_PORT = 5061;

export function buildAccount(
  vendor: VendorSpec,
  device: { username: string; password: string; name: string },
  config: ProfileConfig,
  server: ServerSide,
): PhoneAccount {
  const transport: Transport = config.transport ?? 'udp';
  const port = config.sip_port ?? (transport === 'tls' ? server.tlsPort ?? TLS_DEFAULT_PORT : server.sipPort);
  const codecs = (config.codecs ?? CODECS).filter((c) => vendor.codecs.includes(c));
  return {
    username: device.username,
    password: oneLine(device.password),
    displayName: oneLine(device.name),
    domain: server.domain,
    server: config.sip_server ?? server.host,
    port,
    transport,
    expires: config.register_expires ?? DEFAULT_EXPIRES,
    codecs,
    dtmf: config.dtmf_mode ?? 'rfc4733',
    srtp: config.srtp ?? 'off',
    ntpServer: config.ntp_server ?? null,
    timezone: config.timezone ?? null,
    settings: config.settings ?? {},
  };
}
