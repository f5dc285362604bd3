/** Retained secrets in memory: for tests and for a node run without a database. */
import type { ZrtpCache } from './zrtp-endpoint.ts';
import type { RetainedSecrets } from './zrtp-keys.ts';

export class MemoryZrtpCache implements ZrtpCache {
  readonly entries = new Map<string, RetainedSecrets>();

  async load(peerZid: Buffer): Promise<RetainedSecrets> {
    const e = this.entries.get(peerZid.toString('hex'));
    return e ? { ...e } : { rs1: null, rs2: null, verified: false };
  }

  async save(peerZid: Buffer, secrets: RetainedSecrets): Promise<void> {
    this.entries.set(peerZid.toString('hex'), { ...secrets });
  }

  /** The user compared the SAS (`POST /sas/verify`): the V flag of later Confirms. */
  async setVerified(peerZid: Buffer, verified: boolean): Promise<boolean> {
    const e = this.entries.get(peerZid.toString('hex'));
    if (!e) return false;
    e.verified = verified;
    return true;
  }
}
