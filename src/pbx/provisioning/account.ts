/**
 * What every vendor's configuration says, in one shape: the SIP account of one device and
 * the profile's settings, defaults filled in. Renderers only translate this into their
 * vendor's keys and syntax.
 */
export const TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type Transport = typeof TRANSPORTS[number];
export const CODECS = ['PCMU', 'PCMA', 'G722', 'opus'] as const;
export type Codec = typeof CODECS[number];
export const DTMF_MODES = ['rfc4733', 'info', 'inband'] as const;
export type DtmfMode = typeof DTMF_MODES[number];
export const SRTP_MODES = ['off', 'optional', 'required'] as const;
export type SrtpMode = typeof SRTP_MODES[number];

export interface PhoneAccount {
  /** Digest username and AOR user part. */
  username: string;
  password: string;
  displayName: string;
  /** SIP domain (digest realm). */
  domain: string;
  /** Where the phone registers: host name or IP literal (IPv6 without brackets). */
  server: string;
  port: number;
  transport: Transport;
  /** Registration interval in seconds. */
  expires: number;
  /** In preference order; only the vendor's supported codecs reach a renderer. */
  codecs: Codec[];
  dtmf: DtmfMode;
  srtp: SrtpMode;
  ntpServer: string | null;
  timezone: string | null;
  /** Raw vendor keys from the profile, already checked against the vendor's key syntax. */
  settings: Record<string, string>;
}

/** `host:port`, with brackets around an IPv6 literal (RFC 3986 §3.2.2). */
export function hostPort(a: Pick<PhoneAccount, 'server' | 'port'>): string {
  return `${a.server.includes(':') ? `[${a.server}]` : a.server}:${a.port}`;
}
