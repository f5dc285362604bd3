/**
 * System-wide SDES-SRTP settings (`PUT /api/system/srtp/config`): the policy new devices and
 * trunks get when none is given, the suites we offer and accept (in our order of preference),
 * and whether keys may travel in SDP over UDP/TCP signalling. Calls read `current` when they
 * start, so a change applies to the next call. STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING is the
 * default of the last until the API sets it.
 */
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { loadSrtpSettingsJson, saveSrtpSettingsJson } from '../store/srtp-settings.ts';
import { SRTP_SUITE_PREFERENCE, findSrtpSuite, type SrtpSuiteName } from '../media/srtp/srtp-suites.ts';
import { SRTP_POLICIES, type SrtpPolicy } from '../store/devices.ts';

export interface SrtpSettings {
  defaultPolicy: SrtpPolicy;
  suites: SrtpSuiteName[];
  allowInsecureSignalling: boolean;
}

export class SrtpSettingsService {
  current: SrtpSettings;
  /** Told after each update (call shards keep a copy: `call-shards.ts`). */
  onChange: ((current: SrtpSettings) => void) | undefined;

  private readonly defaults: SrtpSettings;

  constructor(private readonly db: Db, private readonly box: SecretBox, allowInsecureSignalling: boolean) {
    this.defaults = { defaultPolicy: 'off', suites: [...SRTP_SUITE_PREFERENCE], allowInsecureSignalling };
    this.current = this.defaults;
  }

  /** Reads the stored settings over the defaults (a missing or damaged row leaves the defaults). */
  async load(): Promise<void> {
    const json = await loadSrtpSettingsJson(this.db, this.box);
    let stored: Partial<SrtpSettings> = {};
    if (json !== undefined) {
      try { stored = sanitize(JSON.parse(json) as Partial<SrtpSettings>); } catch { /* damaged: defaults */ }
    }
    this.current = { ...this.defaults, ...stored };
  }

  /** The row was replaced behind this service (a backup restore): read it again and tell. */
  async reload(): Promise<void> {
    await this.load();
    this.onChange?.(this.current);
  }

  /** Applies a validated patch and stores the result. */
  async update(patch: Partial<SrtpSettings>): Promise<SrtpSettings> {
    const next = { ...this.current, ...patch };
    await saveSrtpSettingsJson(this.db, this.box, JSON.stringify(next));
    this.current = next;
    this.onChange?.(next);
    return next;
  }
}

/** What a stored row may set: known policies and suites only. */
function sanitize(s: Partial<SrtpSettings>): Partial<SrtpSettings> {
  const out: Partial<SrtpSettings> = {};
  if (s.defaultPolicy && SRTP_POLICIES.includes(s.defaultPolicy)) out.defaultPolicy = s.defaultPolicy;
  if (Array.isArray(s.suites)) {
    const suites = s.suites.filter((n) => findSrtpSuite(n) !== undefined);
    if (suites.length > 0) out.suites = suites;
  }
  if (typeof s.allowInsecureSignalling === 'boolean') out.allowInsecureSignalling = s.allowInsecureSignalling;
  return out;
}
