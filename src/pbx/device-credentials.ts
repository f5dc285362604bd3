/**
 * Digest HA1 per device, cached: REGISTER bursts must not hit the database and the AES
 * unseal for every request. Entries expire after `ttlMs` and are dropped at once when the
 * API changes or deletes a device. Unknown usernames are cached briefly too, so a scanner
 * guessing names costs one query per name per few seconds.
 */
import type { SecretBox } from '../store/secret-box.ts';
import { findDeviceCredentials, type DigestAlgorithmSetting } from '../store/devices.ts';
import { computeHa1 } from '../sip/digest-algorithm.ts';
import type { Db } from '../store/db.ts';

interface Entry {
  deviceId: number | null;
  password: string | null;
  digestAlgorithm: DigestAlgorithmSetting | null;
  ha1: Map<string, string>;
  expires: number;
}

export class DeviceCredentialCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly opts: { ttlMs?: number; negativeTtlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** The cached entry of `username` while it is fresh, without waiting (the hot path's common case). */
  peek(username: string): Entry | undefined {
    const hit = this.entries.get(username);
    return hit !== undefined && hit.expires > this.now() ? hit : undefined;
  }

  async get(username: string): Promise<Entry> {
    const hit = this.peek(username);
    if (hit !== undefined) return hit;
    const now = this.now();
    const creds = await findDeviceCredentials(this.db, this.box, username);
    const entry: Entry = creds
      ? { deviceId: creds.id, password: creds.password, digestAlgorithm: creds.digestAlgorithm, ha1: new Map(), expires: now + (this.opts.ttlMs ?? 60_000) }
      : { deviceId: null, password: null, digestAlgorithm: null, ha1: new Map(), expires: now + (this.opts.negativeTtlMs ?? 5_000) };
    if (this.entries.size >= (this.opts.maxEntries ?? 200_000)) this.entries.clear();
    this.entries.set(username, entry);
    return entry;
  }

  /**
   * HA1 for the digest server's lookup, or undefined for an unknown user; at once (no promise,
   * no turn of the microtask queue) when the entry is cached.
   */
  ha1(username: string, realm: string, hash: string): string | undefined | Promise<string | undefined> {
    const e = this.peek(username);
    return e !== undefined ? ha1Of(e, username, realm, hash) : this.get(username).then((got) => ha1Of(got, username, realm, hash));
  }

  async deviceId(username: string): Promise<number | null> {
    return (this.peek(username) ?? await this.get(username)).deviceId;
  }

  invalidate(username?: string): void {
    if (username === undefined) this.entries.clear();
    else this.entries.delete(username);
  }
}

function ha1Of(e: Entry, username: string, realm: string, hash: string): string | undefined {
  if (e.password === null) return undefined;
  const key = `${realm}\u0000${hash}`;
  let v = e.ha1.get(key);
  if (v === undefined) {
    v = computeHa1(hash as Parameters<typeof computeHa1>[0], username, realm, e.password);
    e.ha1.set(key, v);
  }
  return v;
}
