/**
 * Which trunk an INVITE comes from, by its source address: each trunk lists the addresses
 * and CIDR blocks (RFC 4632 §3.1 for IPv4, RFC 4291 §2.3 for IPv6) its carrier sends from.
 * Pure functions; the call engine passes `listEnabledTrunks()` and the packet's source IP.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface Cidr extends IpAddress {
  /** Leading bits that must match: 0-32 (IPv4) or 0-128 (IPv6). */
  prefix: number;
}

function parseIpv4(s: string, out: Uint8Array, at: number): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // Leading zeros are refused: some stacks read "010" as octal (RFC 6943 §3.1.1).
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[at + i] = n;
  }
  return true;
}

/** The 16 bytes of an IPv6 address in RFC 4291 §2.2 text form (a trailing dotted quad allowed). */
function parseIpv6(s: string): Uint8Array | undefined {
  if (!isIPv6(s)) return undefined;
  const out = new Uint8Array(16);
  const halves = s.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = (list: string[], into: number[]): boolean => {
    for (const g of list) {
      if (g.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!parseIpv4(g, v4, 0)) return false;
        into.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        into.push(parseInt(g, 16));
      }
    }
    return true;
  };
  const h: number[] = [];
  const t: number[] = [];
  if (!groups(head, h) || !groups(tail, t)) return undefined;
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = all[i]! >> 8;
    out[i * 2 + 1] = all[i]! & 0xff;
  }
  return out;
}

/** ::ffff:0:0/96, IPv4-mapped addresses (RFC 4291 §2.5.5.2): what a dual-stack socket reports for IPv4 peers. */
function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Parses an IPv4 or IPv6 address (brackets and a `%zone` suffix are dropped). IPv4-mapped
 * IPv6 addresses come back as IPv4 so "::ffff:192.0.2.1" matches "192.0.2.0/24".
 */
export function parseIp(text: string): IpAddress | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (isIPv4(s)) {
    const bytes = new Uint8Array(4);
    return parseIpv4(s, bytes, 0) ? { family: 4, bytes } : undefined;
  }
  const b6 = parseIpv6(s);
  if (!b6) return undefined;
  if (isV4Mapped(b6)) return { family: 4, bytes: b6.slice(12) };
  return { family: 6, bytes: b6 };
}

/**
 * Parses "address" or "address/prefix". Host bits are cleared, so "192.0.2.7/24" is the
 * block 192.0.2.0/24. undefined when the text is neither.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const width = ip.bytes.length * 8;
  let prefix = width;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    prefix = Number(p);
    // A mapped IPv6 block was turned into IPv4 above: its prefix counts from bit 96.
    if (ip.family === 4 && text.slice(0, slash).includes(':')) prefix -= 96;
    if (prefix < 0 || prefix > width) return undefined;
  }
  const bytes = ip.bytes;
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.min(8, Math.max(0, prefix - i * 8));
    bytes[i] = bytes[i]! & (0xff00 >> keep) & 0xff;
  }
  return { family: ip.family, bytes, prefix };
}

/** RFC 5952 §4 text: lowercase hex, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
function formatIpv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (list: number[]) => list.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? ip.bytes.join('.') : formatIpv6(ip.bytes);
}

/** Canonical text of a block: the bare address for a single host, else "network/prefix". */
export function formatCidr(c: Cidr): string {
  const full = c.family === 4 ? 32 : 128;
  return c.prefix === full ? formatIp(c) : `${formatIp(c)}/${c.prefix}`;
}

/** Whether `ip` lies inside `block` (same family, first `prefix` bits equal). */
export function cidrContains(block: Cidr, ip: IpAddress): boolean {
  if (block.family !== ip.family) return false;
  const full = block.prefix >> 3;
  for (let i = 0; i < full; i++) if (block.bytes[i] !== ip.bytes[i]) return false;
  const rest = block.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >> rest) & 0xff;
  return (block.bytes[full]! & mask) === (ip.bytes[full]! & mask);
}

export interface InboundMatchable {
  enabled: boolean;
  inbound_hosts: readonly string[];
}

// Parsed blocks per inbound_hosts array: trunks are reloaded on change, so the arrays
// are stable between reloads and each INVITE parses only its own source address.
const parsedHosts = new WeakMap<readonly string[], Cidr[]>();

function blocksOf(hosts: readonly string[]): Cidr[] {
  let blocks = parsedHosts.get(hosts);
  if (!blocks) {
    blocks = [];
    for (const h of hosts) {
      const c = parseCidr(h);
      if (c) blocks.push(c);
    }
    parsedHosts.set(hosts, blocks);
  }
  return blocks;
}

/**
 * The enabled trunk whose `inbound_hosts` contain `sourceIp`; when several do, the most
 * specific block wins (longest prefix, as in IP routing, RFC 4632 §5.1), then list order.
 * undefined when none matches or `sourceIp` is not an address.
 *
 * @example
 * matchInboundTrunk(await listEnabledTrunks(db), '::ffff:203.0.113.9') // trunk with "203.0.113.0/24"
 */
export function matchInboundTrunk<T extends InboundMatchable>(trunks: readonly T[], sourceIp: string): T | undefined {
  const ip = parseIp(sourceIp);
  if (!ip) return undefined;
  let best: T | undefined;
  let bestPrefix = -1;
  for (const t of trunks) {
    if (!t.enabled) continue;
    for (const block of blocksOf(t.inbound_hosts)) {
      if (block.prefix > bestPrefix && cidrContains(block, ip)) {
        best = t;
        bestPrefix = block.prefix;
      }
    }
  }
  return best;
}
