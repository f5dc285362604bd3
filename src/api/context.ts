/**
 * What the HTTP layer is handed at start: config, store, and the subsystems whose state the
 * API shows or drives. Subsystems that are not running yet are simply absent.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Store } from '../store/database.ts';
import type { SecretBox } from '../store/secret-box.ts';

/** A subsystem's slot in `GET /api/system/status`. */
export type StatusProvider = () => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface ApiContext {
  config: Config;
  store: Store;
  box: SecretBox;
  logger: Logger;
  startedAt: number;
  version: string;
  /** Filled by subsystems as they start: sip, media, twilio, tls. */
  status: Map<string, StatusProvider>;
  /** Hooks the PBX core registers so API writes reach live state (e.g. device deleted → drop registrations). */
  events: import('node:events').EventEmitter;
  /** Music on hold: setting, uploads, and the WAV the hold feature plays. */
  moh: import('../pbx/moh.ts').MohService;
  /** The SIP side, once started (absent in HTTP-only tests). */
  sip?: import('../pbx/sip-server.ts').SipServer;
}
