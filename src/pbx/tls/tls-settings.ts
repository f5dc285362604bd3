/**
 * Settings of the TLS certificate service and their rules: where the certificate comes from,
 * for which names, and when it is renewed. `PUT /api/system/tls/config` is validated here.
 */
import { isIP } from 'node:net';

/**
 * `self-signed`: generated and kept in the data dir (the default); `pem`: a pair uploaded
 * through the API; `acme`: issued by an ACME CA; `file`: STROWGER_SIP_TLS_CERT/KEY, re-read
 * from disk on reload (set by the environment, not through the API).
 */
export type TlsSource = 'self-signed' | 'pem' | 'acme' | 'file';

export interface TlsSettings {
  source: TlsSource;
  /** Names of the certificate (SANs): the ACME order's identifiers or the self-signed SANs. */
  domains: string[];
  acmeDirectoryUrl: string | null;
  acmeEmail: string | null;
  /** Renew acme and self-signed certificates when fewer than renewBeforeDays are left. */
  autoRenew: boolean;
  renewBeforeDays: number;
}

export const DEFAULT_RENEW_BEFORE_DAYS = 30;
export const MAX_DOMAINS = 20;

/** A DNS host name (RFC 1123 §2.1): labels of letters, digits and inner hyphens. */
export function isHostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l));
}

/** The reason `domains` cannot be used with `source`, or null. HTTP-01 proves host names only. */
export function domainsProblem(source: TlsSource, domains: readonly string[]): string | null {
  if (source === 'acme' && domains.length === 0) return 'ACME needs at least one domain';
  if (domains.length > MAX_DOMAINS) return `at most ${MAX_DOMAINS} domains`;
  for (const d of domains) {
    if (source === 'acme' && d.startsWith('*.')) return `${d}: HTTP-01 cannot prove a wildcard name`;
    if (source === 'acme' && isIP(d) !== 0) return `${d}: ACME certificates here are for host names, not IP addresses`;
    if (isIP(d) === 0 && !isHostName(d)) return `${d} is not a host name`;
  }
  return null;
}

export function parseSettings(json: string, fallback: TlsSettings): TlsSettings {
  try {
    return { ...fallback, ...(JSON.parse(json) as Partial<TlsSettings>) };
  } catch {
    return fallback;
  }
}
