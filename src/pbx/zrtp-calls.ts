/**
 * ZRTP on calls (RFC 6189; docs/ZRTP.md): the system setting (`enabled`, `strict_mode`), our
 * ZID, the retained-secret cache in the database, and when ZRTP runs. When enabled, every
 * answered call starts ZRTP on each leg that has no SDES-SRTP (keys already agreed in SDP need
 * no second exchange): Strowger sends Hello to the device and, if the device answers, the
 * handshake sets the leg's SRTP keys. A device that does not speak ZRTP ignores the Hellos and
 * its media stays plain (`optional`), unless `strict_mode` is on: then a leg whose device does
 * not complete ZRTP ends the call (cause `zrtp_failed`).
 *
 * Strowger is the ZRTP endpoint of each leg (it anchors the media), so the SAS is shared
 * between a phone and Strowger — each leg has its own SAS; it is not end to end.
 */
import { randomBytes } from 'node:crypto';
import type { MediaEngine } from '../media/media-engine.ts';
import { ZrtpService, type ZrtpSessionSnapshot, type ZrtpTimers, type ZrtpTotals, type ZrtpVerifiableCache } from '../media/zrtp/index.ts';
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { getConfigValues, setConfigValues } from '../store/system-config.ts';
import { getZrtpSecrets, putZrtpSecrets, setZrtpVerified } from '../store/zrtp-cache.ts';

export interface ZrtpSettings {
  enabled: boolean;
  strictMode: boolean;
}

const KEYS = { enabled: 'zrtp_enabled', strict: 'zrtp_strict_mode', zid: 'zrtp_zid' } as const;

export interface ZrtpCallsOptions {
  db: Db;
  box: SecretBox;
  media: Pick<MediaEngine, 'on' | 'off' | 'setZrtp' | 'sendZrtp' | 'setSrtp' | 'stats'>;
  timers: ZrtpTimers;
  logger?: { warn(obj: object, msg: string): void };
}

function dbCache(db: Db, box: SecretBox): ZrtpVerifiableCache {
  return {
    load: async (zid) => {
      const r = await getZrtpSecrets(db, box, zid.toString('hex'));
      return r ? { rs1: r.rs1, rs2: r.rs2, verified: r.verified } : { rs1: null, rs2: null, verified: false };
    },
    save: (zid, s) => putZrtpSecrets(db, box, zid.toString('hex'), s),
    setVerified: (zid, v) => setZrtpVerified(db, zid.toString('hex'), v),
  };
}

export class ZrtpCalls {
  /** Ends a call (strict mode); set by the SIP server once the B2BUA exists. */
  hangup: ((callId: string, cause: string) => void) | null = null;

  private constructor(readonly service: ZrtpService, private current: ZrtpSettings, private readonly o: ZrtpCallsOptions) {}

  /** Loads the settings and our ZID (made once, then kept: peers' caches are keyed by it). */
  static async create(o: ZrtpCallsOptions): Promise<ZrtpCalls> {
    const values = await getConfigValues(o.db, o.box);
    let zid = values[KEYS.zid];
    if (!zid || !/^[0-9a-f]{24}$/.test(zid)) {
      zid = randomBytes(12).toString('hex');
      await setConfigValues(o.db, o.box, { [KEYS.zid]: zid }, new Set());
    }
    let calls: ZrtpCalls | null = null;
    const service = new ZrtpService({
      engine: o.media, cache: dbCache(o.db, o.box), zid: Buffer.from(zid, 'hex'), timers: o.timers,
      onFailed: (s) => calls?.onSessionFailed(s, s.error ?? 'failed'),
      onNoPeer: (s) => calls?.onSessionFailed(s, 'the device sent no ZRTP Hello'),
      onError: (err, legId) => o.logger?.warn({ err, legId }, 'ZRTP packet not sent'),
    });
    calls = new ZrtpCalls(service, { enabled: values[KEYS.enabled] === '1', strictMode: values[KEYS.strict] === '1' }, o);
    return calls;
  }

  settings(): ZrtpSettings {
    return { ...this.current };
  }

  /**
   * For other status views (e.g. the aggregated encryption status): the settings, the counters
   * and the ZRTP session of each leg now (`legId`, `callId`, `side`, `state`, `srtpSuite`, `sas`).
   */
  status(): ZrtpSettings & { totals: ZrtpTotals; sessions: ZrtpSessionSnapshot[] } {
    return { ...this.current, totals: this.service.totals(), sessions: this.service.sessions() };
  }

  /** Applies to calls answered from now on. */
  async update(next: Partial<ZrtpSettings>): Promise<ZrtpSettings> {
    const s: ZrtpSettings = { enabled: next.enabled ?? this.current.enabled, strictMode: next.strictMode ?? this.current.strictMode };
    await setConfigValues(this.o.db, this.o.box, { [KEYS.enabled]: s.enabled ? '1' : '0', [KEYS.strict]: s.strictMode ? '1' : '0' }, new Set());
    this.current = s;
    return this.settings();
  }

  /**
   * A call was answered (legs caller first): ZRTP on each leg without SDES-SRTP, when enabled.
   * Whether a leg has SDES keys is read from the leg itself (they are applied before the answer).
   */
  callAnswered(callId: string, legIds: readonly number[]): void {
    if (!this.current.enabled) return;
    legIds.forEach((legId, i) => void this.startLeg(callId, legId, i === 0 ? 'a' : 'b'));
  }

  private async startLeg(callId: string, legId: number, side: 'a' | 'b'): Promise<void> {
    try {
      if ((await this.o.media.stats(legId)).srtp !== null) return;
      await this.service.start(legId, { callId, side });
    } catch (err) {
      this.o.logger?.warn({ err, callId, legId }, 'ZRTP not started');
    }
  }

  callEnded(legIds: readonly number[]): void {
    for (const id of legIds) this.service.stop(id);
  }

  private onSessionFailed(s: ZrtpSessionSnapshot, reason: string): void {
    this.o.logger?.warn({ callId: s.callId, side: s.side, reason }, 'ZRTP did not complete');
    if (this.current.strictMode && s.callId !== null) this.hangup?.(s.callId, 'zrtp_failed');
  }

  close(): void {
    this.service.close();
  }
}
