/**
 * What the HTTP layer is handed at start: config, store, and the subsystems whose state the
 * API shows or drives. Subsystems that are not running yet are simply absent.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Store } from '../store/database.ts';
import type { SecretBox } from '../store/secret-box.ts';
import type { EventBus } from '../events.ts';

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
  /** API writes announce themselves here so live state follows (catalogue: `src/events.ts`). */
  events: EventBus;
  /** Music on hold: setting, uploads, and the WAV the hold feature plays. */
  moh: import('../pbx/moh.ts').MohService;
  /** The Twilio account of the system config (REST client, webhook auth token). */
  twilio: import('../pbx/twilio-account.ts').TwilioAccount;
  /** Voicemail messages: files and rows together (set at start, before the API is built). */
  voicemail?: import('../pbx/voicemail/voicemail-files.ts').VoicemailFiles;
  /** Voicemail transcription (`enabled` false with the `none` engine). */
  transcriber?: import('../pbx/voicemail/voicemail-transcriber.ts').VoicemailTranscriber;
  /** The certificate of the SIP TLS/WSS listeners: sources, ACME, renewal, hot reload. */
  tls?: import('../pbx/tls/tls-certificates.ts').TlsCertificates;
  /** System-wide SDES-SRTP settings (default policy, suites, insecure signalling). */
  srtp?: import('../pbx/srtp-settings.ts').SrtpSettingsService;
  /** ZRTP settings and sessions (absent without the SIP side). */
  zrtp?: import('../pbx/zrtp-calls.ts').ZrtpCalls;
  /** The SIP side, once started (absent in HTTP-only tests). */
  sip?: import('../pbx/sip-server.ts').SipServer;
  /** The media engine (with the SIP side; absent in HTTP-only tests). */
  media?: import('../media/media-engine.ts').MediaEngine;
  /** Built-in rooms (with the media engine). */
  rooms?: import('../rooms/room-registry.ts').RoomRegistry;
  /** Which dialled SIP user parts reach rooms and the room IVR (gateways register theirs here). */
  roomDialPlan?: import('../rooms/room-dial-plan.ts').RoomDialPlan;
  /** The seed 002 call gateway (`src/gateway/`) and its JWTs. */
  callGateway?: import('../gateway/call-gateway.ts').CallGateway;
  callTokens?: import('../gateway/call-token.ts').CallTokens;
  /** Makes WebRTC endpoints (media-engine legs for browsers), with the media engine (absent without SIP/media). */
  webrtc?: import('../media/webrtc/index.ts').WebRtcFactory;
}
