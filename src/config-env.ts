/**
 * Typed readers of environment variables for `config.ts`: each answers the default when the
 * variable is unset and throws a {@link ConfigError} naming the variable when its value is bad,
 * so a typo stops the server at start instead of misbehaving later.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { trustedList } from './pbx/sip-guard.ts';

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function port(env: Env, name: string, def: number): number {
  return int(env, name, def, 0, 65535);
}

export function oneOf(env: Env, name: string, def: string, allowed: string[]): string {
  const raw = env[name] ?? def;
  if (!allowed.includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw;
}

export function range(env: Env, name: string, def: [number, number]): [number, number] {
  const raw = env[name];
  if (!raw) return def;
  const m = /^(\d+)-(\d+)$/.exec(raw);
  if (!m) throw new ConfigError(name, `expected "min-max", got "${raw}"`);
  const lo = Number(m[1]), hi = Number(m[2]);
  if (lo < 1024 || hi > 65535 || hi - lo < 3) throw new ConfigError(name, `range must lie in 1024-65535 and hold at least 2 port pairs, got "${raw}"`);
  return [lo, hi];
}

export function optionalPort(env: Env, name: string, def: number | null): number | null {
  const raw = env[name];
  if (raw === 'off' || raw === 'false') return null;
  if (raw === undefined || raw === '') return def;
  return port(env, name, 0);
}

export function list(env: Env, name: string, def: string): string[] {
  const items = (env[name] || def).split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError(name, 'must list at least one value');
  return items;
}

/** Comma-separated IP literals (ICE candidates carry addresses, never names). */
export function ipList(env: Env, name: string): string[] {
  const items = list(env, name, '');
  for (const a of items) if (isIP(a) === 0) throw new ConfigError(name, `"${a}" is not an IP address`);
  return items;
}

/** CIDRs or addresses, checked here so a typo stops the server instead of trusting nothing. */
export function networks(env: Env, name: string): string[] {
  const items = (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  try {
    trustedList(items);
  } catch (err) {
    throw new ConfigError(name, (err as Error).message);
  }
  return items;
}

/** A header value (RFC 3261 §25.1 TEXT-UTF8: no control characters), or undefined when unset. */
export function headerValue(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const v = raw.trim();
  if (/[\x00-\x1f\x7f]/.test(v) || v.length > 200) throw new ConfigError(name, 'must be printable text of at most 200 characters');
  return v;
}

/** `STROWGER_TRUST_PROXY`: off (unset, `false`), `true`, or the proxies' addresses and CIDRs as Fastify's `trustProxy` takes them. */
export function trustProxy(raw: string | undefined): boolean | string {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  return raw; // comma-separated addresses/CIDRs, handed to Fastify as is
}

/**
 * An absolute http(s) URL, trailing slashes removed; undefined when unset. Without a query or
 * fragment unless `query` allows one (a sync endpoint's URL often carries its key), then kept as given.
 */
export function httpUrl(env: Env, name: string, opts: { query?: boolean } = {}): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(name, `must be http:// or https://, got "${raw}"`);
  if (opts.query === true) return raw;
  if (u.search || u.hash) throw new ConfigError(name, 'must not have a query or fragment');
  return raw.replace(/\/+$/, '');
}

/** A path that must exist when set, so a typo stops the server instead of failing later. */
export function existingFile(env: Env, name: string): string | undefined {
  const f = env[name];
  if (!f) return undefined;
  if (!existsSync(f)) throw new ConfigError(name, `${f} does not exist`);
  return f;
}
