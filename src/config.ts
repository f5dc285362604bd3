/**
 * Typed configuration from the environment, validated once at start.
 * A bad value stops the server with a message naming the variable.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { DEFAULT_SCANNER_AGENTS } from './pbx/sip-guard.ts';
import { ConfigError, existingFile, headerValue, httpUrl, int, ipList, list, networks, oneOf, optionalPort, port, range, trustProxy, type Env } from './config-env.ts';

export { ConfigError } from './config-env.ts';
import { TRANSCRIPTION_ENGINE_NAMES } from './integrations/transcription/types.ts';
import { HTTP_URL } from './gateway/external-room.ts';

export interface Config {
  httpPort: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  /** SQLite: REGISTER bindings, CDRs and the call journal commit on a writer thread (STROWGER_SQLITE_WRITER_THREAD, default on). */
  sqliteWriterThread: boolean;
  secretKey: Buffer;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  logLevel: string;
  /** Fastify `trustProxy`: false unless configured, so X-Forwarded-For is ignored by default. */
  trustProxy: boolean | string;
  login: { maxFailures: number; windowMs: number; lockoutMs: number };
  sessionTtlMs: number;
  domain: string;
  publicIp: string | undefined;
  sip: SipConfig;
  rtpPorts: [number, number];
  calls: { ringTimeoutMs: number; maxCallMs: number; rtpTimeoutMs: number; /** STROWGER_SRTP_AUTH_FAIL_SECONDS: an SRTP leg failing authentication this long ends its call; 0 = never. */ srtpAuthFailMs: number; mediaWorkers: number | undefined };
  natsUrl: string | undefined;
  /** Music-on-hold uploads: largest file accepted, longest audio accepted. */
  moh: { maxBytes: number; maxSeconds: number };
  /** Public provisioning fetches (`GET /api/provision/{token}`) allowed per client address per minute. */
  provisionRatePerMinute: number;
  /** Twilio: webhook signature URL base, REST base override (tests), SMS outbox retries. */
  twilio: TwilioConfig;
  /** Message-summary subscriptions (RFC 3842): granted Expires bounds; absent Expires gets `maxExpires`. */
  mwi: { minExpires: number; maxExpires: number };
  /** Voicemail transcription engine: `none` or a local engine's name (`src/integrations/transcription/`). */
  transcription: { engine: string };
  voicemail: VoicemailConfig;
  /** Addresses/CIDRs that may read `GET /metrics` without credentials. */
  metricsAllow: string[];
  /** WebRTC endpoints: ICE candidate addresses (undefined: the media address) and ICE port range. */
  webrtc: { addresses: string[] | undefined; ports: [number, number] | undefined };
  /** Built-in rooms (`src/rooms/`): how many, how big, how long an empty one lives. */
  rooms: { maxRooms: number; maxParticipants: number; idleCloseMs: number; videoSlots: number; videoPublishers: number };
  /** Gateways of seeds 000/001 (`src/gateway/`): how many at once, RTMP restarts. */
  gateways: {
    max: number; streamRetries: number; streamRetryBaseMs: number;
    /** External conference systems (WHIP/WHEP) by lower-case domain: seed 000's `domain`, seed 001's `webrtc_domain`. */
    conferenceSystems: Map<string, { whip?: string; whep?: string; token?: string }>;
  };
  /** SIP callers into rooms (`src/rooms/room-dial-plan.ts`, `room-ivr.ts`). */
  roomCalls: { prefix: string | undefined; ivrNumber: string | undefined; ivrDigitTimeoutMs: number };
  /** The seed 002 call gateway (`src/gateway/`): hooks, call tokens, number sync. */
  callGateway: CallGatewayConfig;
  /** Joining a room through its page needs a room token (STROWGER_ROOMS_REQUIRE_TOKEN=1); WHIP/WHEP always do. */
  roomsRequireToken: boolean;
}

export interface CallGatewayConfig {
  /** Delivery attempts of one hook event before it is `failed`. */
  hookMaxAttempts: number;
  /** First retry delay; doubled per attempt (capped at 10 minutes). */
  hookRetryBaseMs: number;
  /** Time one delivery may take before it counts as failed. */
  hookTimeoutMs: number;
  /** Lifetime of call and session tokens. */
  tokenTtlSeconds: number;
  /** `{"numbers":[…]}` polled from here; undefined = no sync. */
  numbersSyncUrl: string | undefined;
  numbersSyncIntervalMs: number;
}

export interface TwilioConfig {
  /** Public base URL Twilio calls (webhook signatures are computed on it); undefined = from the request. */
  publicUrl: string | undefined;
  /** Replaces https://<product>.twilio.com for REST calls (tests point it at a local fake); undefined = Twilio. */
  apiBase: string | undefined;
  /** Send attempts per outbound message before it is `failed`. */
  smsMaxAttempts: number;
  /** First retry delay; doubled per attempt. */
  smsRetryBaseMs: number;
}

/** Voicemail (src/pbx/voicemail/): recording limits, the owner's access number, mail retries. */
export interface VoicemailConfig {
  /** What a device dials to reach its own mailbox menu. */
  number: string;
  maxSeconds: number;
  /** Shorter messages are discarded. */
  minSeconds: number;
  /** Recording ends after this much silence; 0 = never. */
  silenceSeconds: number;
  /** First retry delay of a failed mail; doubles per attempt, capped at an hour. */
  mailRetryMs: number;
  mailMaxAttempts: number;
  /** How long a mail waits for its message's transcript (with a transcription engine); 0 = not at all. */
  mailTranscriptWaitMs: number;
}

export interface SipConfig {
  /** Addresses the SIP transports bind to (IPv4 and/or IPv6). */
  hosts: string[];
  port: number;
  /** null = TLS off. */
  tlsPort: number | null;
  wsPort: number | null;
  wssPort: number | null;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  digestAlgorithms: Array<'SHA-256' | 'MD5'>;
  /** Digest failure bans (`pbx/sip-guard.ts`): per username at an address, and per address for enumeration. */
  ban: { maxFailures: number; maxUsernames: number; windowMs: number; banMs: number; userBanMs: number; trustedNetworks: string[] };
  /** Server header of SIP responses; undefined = `Strowger/<version>`, '' = none. */
  serverHeader: string | undefined;
  /** Lower-case User-Agent substrings whose requests are dropped silently; [] = no filter. */
  scannerUserAgents: string[];
  minExpires: number;
  maxExpires: number;
  /** Smallest Session-Expires accepted (RFC 4028 Min-SE). */
  minSessionExpires: number;
  /** SDES-SRTP keys also in SDP sent over UDP/TCP (readable on the path); default only TLS/WSS. */
  srtpInsecureSignalling: boolean;
  /** DNS servers for RFC 3263 lookups of trunk hosts (`ip` or `ip:port`); [] = the system's. */
  dnsServers: string[];
  /** Origins allowed to open SIP over WS/WSS (exact `scheme://host[:port]`, or `*`); undefined = default (see README). */
  wsOrigins: string[] | undefined;
  /** UDP through the socket's libuv handle, not dgram's per-call layers (STROWGER_SIP_DIRECT_UDP, default on). */
  directUdp: boolean;
  /** Worker threads answering REGISTERs (`pbx/registrar-shards.ts`); 0 = on the main thread (STROWGER_SIP_REGISTRAR_THREADS). */
  registrarThreads: number;
  /** STROWGER_SIP_CALL_THREADS: worker threads carrying calls beside the main thread (`pbx/call-shards.ts`); 0 = none. */
  callThreads: number;
  /** Extra TLS certificate/key files for our TLS listeners, picked by SNI (`STROWGER_SIP_TLS_CERTS`). */
  tlsCertPairs: Array<{ certFile: string; keyFile: string }>;
  /** Extra CA certificates (PEM file) trusted for an ACME directory's HTTPS (`STROWGER_ACME_CA_FILE`). */
  acmeCaFile: string | undefined;
  /** How often the TLS certificate's expiry is checked for renewal (`STROWGER_TLS_RENEW_CHECK_SECONDS`); 0 = never. */
  tlsRenewCheckMs: number;
  /** Shedding of new INVITEs/REGISTERs under load (`sip/overload-control.ts`). */
  overload: { targetUtilization: number; maxLagMs: number; targetQueueDelayMs: number; dropLagMs: number; maxPendingInvites: number; retryAfterSeconds: number; maxRetransmitted: number; targetWaitMs: number; minPendingInvites: number; standingMs: number; fastPath: boolean };
}

function digestAlgorithms(env: Env): Array<'SHA-256' | 'MD5'> {
  const items = list(env, 'STROWGER_SIP_DIGEST_ALGORITHMS', 'SHA-256,MD5').map((s) => s.toUpperCase());
  for (const a of items) if (a !== 'SHA-256' && a !== 'MD5') throw new ConfigError('STROWGER_SIP_DIGEST_ALGORITHMS', `unknown algorithm "${a}" (SHA-256, MD5)`);
  return items as Array<'SHA-256' | 'MD5'>;
}

/** Unset: the built-in list of attack tools; set: exactly the given substrings (empty = filter off). */
function scannerUserAgents(env: Env): string[] {
  const raw = env.STROWGER_SIP_SCANNER_USER_AGENTS;
  if (raw === undefined) return [...DEFAULT_SCANNER_AGENTS];
  return raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/**
 * The secret key encrypts secrets at rest and signs nonces. When not given, one is
 * generated once and persisted in the data dir so restarts can still decrypt.
 */
export function resolveSecretKey(env: Env, dataDir: string): Buffer {
  const raw = env.STROWGER_SECRET_KEY;
  if (raw !== undefined && raw !== '') {
    if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
    if (raw.length < 16) throw new ConfigError('STROWGER_SECRET_KEY', 'must be 64 hex digits or a passphrase of at least 16 characters');
    return createHash('sha256').update(raw).digest();
  }
  const file = join(dataDir, 'secret.key');
  if (existsSync(file)) {
    const hex = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new ConfigError('STROWGER_SECRET_KEY', `${file} is corrupt (expected 64 hex digits)`);
    return Buffer.from(hex, 'hex');
  }
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600 });
  return key;
}

export function loadConfig(env: Env = process.env): Config {
  const dataDir = resolve(env.STROWGER_DATA_DIR || './data');
  mkdirSync(dataDir, { recursive: true });
  const databaseUrl = env.DATABASE_URL || `sqlite:${join(dataDir, 'strowger.db')}`;
  if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', `must start with sqlite: or postgres://, got "${databaseUrl}"`);
  }
  const adminEmail = env.STROWGER_ADMIN_EMAIL || undefined;
  const adminPassword = env.STROWGER_ADMIN_PASSWORD || undefined;
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError(adminEmail ? 'STROWGER_ADMIN_PASSWORD' : 'STROWGER_ADMIN_EMAIL', 'STROWGER_ADMIN_EMAIL and STROWGER_ADMIN_PASSWORD go together');
  }
  if (adminPassword !== undefined && adminPassword.length < 8) {
    throw new ConfigError('STROWGER_ADMIN_PASSWORD', 'must be at least 8 characters');
  }
  return {
    httpPort: port(env, 'STROWGER_HTTP_PORT', 8080),
    host: env.STROWGER_HOST || '0.0.0.0',
    dataDir,
    databaseUrl,
    sqliteWriterThread: env.STROWGER_SQLITE_WRITER_THREAD !== '0',
    secretKey: resolveSecretKey(env, dataDir),
    adminEmail,
    adminPassword,
    logLevel: oneOf(env, 'STROWGER_LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    trustProxy: trustProxy(env.STROWGER_TRUST_PROXY),
    login: {
      maxFailures: int(env, 'STROWGER_LOGIN_MAX_FAILURES', 5, 1, 1000),
      windowMs: int(env, 'STROWGER_LOGIN_WINDOW_SECONDS', 900, 1, 86400) * 1000,
      lockoutMs: int(env, 'STROWGER_LOGIN_LOCKOUT_SECONDS', 900, 1, 86400) * 1000,
    },
    sessionTtlMs: int(env, 'STROWGER_SESSION_TTL_HOURS', 24 * 7, 1, 24 * 365) * 3600_000,
    domain: env.STROWGER_DOMAIN || hostname(),
    publicIp: env.STROWGER_PUBLIC_IP || undefined,
    sip: {
      hosts: list(env, 'STROWGER_SIP_HOST', env.STROWGER_HOST || '0.0.0.0'),
      port: port(env, 'STROWGER_SIP_PORT', 5060),
      tlsPort: optionalPort(env, 'STROWGER_SIP_TLS_PORT', 5061),
      wsPort: optionalPort(env, 'STROWGER_SIP_WS_PORT', null),
      wssPort: optionalPort(env, 'STROWGER_SIP_WSS_PORT', null),
      tlsCertFile: env.STROWGER_SIP_TLS_CERT || undefined,
      tlsKeyFile: env.STROWGER_SIP_TLS_KEY || undefined,
      digestAlgorithms: digestAlgorithms(env),
      ban: {
        maxFailures: int(env, 'STROWGER_SIP_BAN_FAILURES', 10, 1, 100000),
        maxUsernames: int(env, 'STROWGER_SIP_BAN_USERNAMES', 10, 2, 100000),
        windowMs: int(env, 'STROWGER_SIP_BAN_WINDOW_SECONDS', 60, 1, 86400) * 1000,
        banMs: int(env, 'STROWGER_SIP_BAN_SECONDS', 600, 0, 30 * 86400) * 1000,
        userBanMs: int(env, 'STROWGER_SIP_LOCK_SECONDS', 600, 0, 30 * 86400) * 1000,
        trustedNetworks: networks(env, 'STROWGER_SIP_TRUSTED_NETWORKS'),
      },
      scannerUserAgents: scannerUserAgents(env),
      serverHeader: headerValue(env, 'STROWGER_SIP_SERVER_HEADER'),
      minExpires: int(env, 'STROWGER_SIP_MIN_EXPIRES', 60, 1, 86400),
      maxExpires: int(env, 'STROWGER_SIP_MAX_EXPIRES', 7200, 60, 7 * 86400),
      minSessionExpires: int(env, 'STROWGER_SIP_MIN_SE', 90, 1, 86400),
      srtpInsecureSignalling: env.STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING === '1',
      dnsServers: dnsServers(env),
      wsOrigins: wsOrigins(env),
      directUdp: env.STROWGER_SIP_DIRECT_UDP !== '0',
      registrarThreads: int(env, 'STROWGER_SIP_REGISTRAR_THREADS', 0, 0, 64),
      callThreads: int(env, 'STROWGER_SIP_CALL_THREADS', 0, 0, 35),
      tlsCertPairs: tlsCertPairs(env),
      acmeCaFile: existingFile(env, 'STROWGER_ACME_CA_FILE'),
      tlsRenewCheckMs: int(env, 'STROWGER_TLS_RENEW_CHECK_SECONDS', 43_200, 0, 30 * 86400) * 1000,
      overload: {
        targetUtilization: int(env, 'STROWGER_SIP_OVERLOAD_UTILIZATION', 97, 1, 100) / 100,
        maxLagMs: int(env, 'STROWGER_SIP_OVERLOAD_LAG_MS', 100, 0, 60_000),
        dropLagMs: int(env, 'STROWGER_SIP_OVERLOAD_DROP_LAG_MS', 1000, 0, 60_000),
        targetQueueDelayMs: int(env, 'STROWGER_SIP_OVERLOAD_QUEUE_DELAY_MS', 0, 0, 60_000),
        maxPendingInvites: int(env, 'STROWGER_SIP_OVERLOAD_MAX_PENDING_INVITES', 1000, 0, 10_000_000),
        retryAfterSeconds: int(env, 'STROWGER_SIP_OVERLOAD_RETRY_AFTER', 5, 1, 3600),
        maxRetransmitted: int(env, 'STROWGER_SIP_OVERLOAD_RETRANSMITTED', 10, 0, 1000) / 100,
        targetWaitMs: int(env, 'STROWGER_SIP_OVERLOAD_TARGET_WAIT_MS', 200, 0, 60_000),
        minPendingInvites: int(env, 'STROWGER_SIP_OVERLOAD_MIN_PENDING_INVITES', 200, 1, 10_000_000),
        standingMs: int(env, 'STROWGER_SIP_OVERLOAD_STANDING_MS', 300, 0, 60_000),
        fastPath: env.STROWGER_SIP_OVERLOAD_FAST_PATH !== '0',
      },
    },
    rtpPorts: range(env, 'STROWGER_RTP_PORTS', [10000, 20000]),
    webrtc: {
      addresses: env.STROWGER_WEBRTC_ADDRESSES ? ipList(env, 'STROWGER_WEBRTC_ADDRESSES') : undefined,
      ports: env.STROWGER_WEBRTC_PORTS ? range(env, 'STROWGER_WEBRTC_PORTS', [0, 0]) : undefined,
    },
    calls: {
      ringTimeoutMs: int(env, 'STROWGER_RING_TIMEOUT_SECONDS', 60, 1, 3600) * 1000,
      maxCallMs: int(env, 'STROWGER_MAX_CALL_SECONDS', 14400, 10, 7 * 86400) * 1000,
      rtpTimeoutMs: int(env, 'STROWGER_RTP_TIMEOUT_SECONDS', 60, 1, 86400) * 1000,
      srtpAuthFailMs: int(env, 'STROWGER_SRTP_AUTH_FAIL_SECONDS', 10, 0, 86400) * 1000,
      mediaWorkers: env.STROWGER_MEDIA_WORKERS ? int(env, 'STROWGER_MEDIA_WORKERS', 1, 1, 64) : undefined,
    },
    natsUrl: env.NATS_URL || undefined,
    rooms: {
      maxRooms: int(env, 'STROWGER_ROOMS_MAX', 100, 1, 100_000),
      maxParticipants: int(env, 'STROWGER_ROOM_MAX_PARTICIPANTS', 50, 2, 1000),
      idleCloseMs: int(env, 'STROWGER_ROOM_IDLE_SECONDS', 60, 1, 86400) * 1000,
      videoSlots: int(env, 'STROWGER_ROOMS_VIDEO_SLOTS', 4, 0, 16),
      videoPublishers: int(env, 'STROWGER_ROOMS_VIDEO_PUBLISHERS', 8, 0, 100),
    },
    gateways: {
      max: int(env, 'STROWGER_GATEWAYS_MAX', 50, 0, 100_000),
      streamRetries: int(env, 'STROWGER_GATEWAY_STREAM_RETRIES', 5, 0, 1000),
      streamRetryBaseMs: int(env, 'STROWGER_GATEWAY_STREAM_RETRY_MS', 1000, 10, 600_000),
      conferenceSystems: conferenceSystems(env),
    },
    roomsRequireToken: env.STROWGER_ROOMS_REQUIRE_TOKEN === '1',
    moh: {
      maxBytes: int(env, 'STROWGER_MOH_MAX_BYTES', 20 * 1024 * 1024, 1024, 1024 ** 3),
      maxSeconds: int(env, 'STROWGER_MOH_MAX_SECONDS', 600, 1, 24 * 3600),
    },
    provisionRatePerMinute: int(env, 'STROWGER_PROVISION_RATE_PER_MINUTE', 30, 1, 100000),
    twilio: {
      publicUrl: httpUrl(env, 'STROWGER_PUBLIC_URL'),
      apiBase: httpUrl(env, 'STROWGER_TWILIO_API_BASE'),
      smsMaxAttempts: int(env, 'STROWGER_SMS_MAX_ATTEMPTS', 5, 1, 100),
      smsRetryBaseMs: int(env, 'STROWGER_SMS_RETRY_BASE_MS', 5000, 1, 3600_000),
    },
    mwi: {
      minExpires: int(env, 'STROWGER_MWI_MIN_EXPIRES', 60, 1, 86400),
      maxExpires: int(env, 'STROWGER_MWI_MAX_EXPIRES', 3600, 60, 7 * 86400),
    },
    transcription: { engine: transcriptionEngine(env) },
    voicemail: voicemailConfig(env),
    metricsAllow: networks(env, 'STROWGER_METRICS_ALLOW'),
    callGateway: {
      hookMaxAttempts: int(env, 'STROWGER_HOOK_MAX_ATTEMPTS', 8, 1, 100),
      hookRetryBaseMs: int(env, 'STROWGER_HOOK_RETRY_BASE_MS', 1000, 1, 3600_000),
      hookTimeoutMs: int(env, 'STROWGER_HOOK_TIMEOUT_MS', 5000, 100, 120_000),
      tokenTtlSeconds: int(env, 'STROWGER_CALL_TOKEN_TTL_SECONDS', 3600, 10, 7 * 86400),
      numbersSyncUrl: httpUrl(env, 'STROWGER_NUMBERS_SYNC_URL', { query: true }),
      numbersSyncIntervalMs: int(env, 'STROWGER_NUMBERS_SYNC_INTERVAL_SECONDS', 60, 1, 86400) * 1000,
    },
    roomCalls: roomCallsConfig(env),
  };
}

function roomCallsConfig(env: Env): Config['roomCalls'] {
  const userPart = (name: string, def: string): string | undefined => {
    const raw = env[name] ?? def;
    if (raw === '') return undefined;
    if (!/^[A-Za-z0-9_.*#+-]{1,32}$/.test(raw)) throw new ConfigError(name, `expected a SIP user part (letters, digits, _ . * # + -, at most 32), got "${raw}"`);
    return raw;
  };
  return {
    prefix: userPart('STROWGER_ROOM_PREFIX', ''),
    ivrNumber: userPart('STROWGER_IVR_NUMBER', '0'),
    ivrDigitTimeoutMs: int(env, 'STROWGER_IVR_DIGIT_TIMEOUT_SECONDS', 5, 1, 60) * 1000,
  };
}

function voicemailConfig(env: Env): VoicemailConfig {
  const number = env.STROWGER_VOICEMAIL_NUMBER || '*97';
  if (!/^[0-9*#+]{1,32}$/.test(number)) throw new ConfigError('STROWGER_VOICEMAIL_NUMBER', `expected digits, * or # (at most 32), got "${number}"`);
  return {
    number,
    maxSeconds: int(env, 'STROWGER_VOICEMAIL_MAX_SECONDS', 180, 5, 3600),
    minSeconds: int(env, 'STROWGER_VOICEMAIL_MIN_SECONDS', 2, 0, 60),
    silenceSeconds: int(env, 'STROWGER_VOICEMAIL_SILENCE_SECONDS', 10, 0, 600),
    mailRetryMs: int(env, 'STROWGER_VOICEMAIL_MAIL_RETRY_SECONDS', 60, 1, 86400) * 1000,
    mailMaxAttempts: int(env, 'STROWGER_VOICEMAIL_MAIL_ATTEMPTS', 10, 1, 100),
    mailTranscriptWaitMs: int(env, 'STROWGER_VOICEMAIL_MAIL_TRANSCRIPT_WAIT_SECONDS', 60, 0, 3600) * 1000,
  };
}

const CONFERENCE_SYSTEMS = 'STROWGER_CONFERENCE_SYSTEMS';

/** `{"<domain>": {"whip": "https://…/{room}", "whep": "…", "token": "…"}, …}`: at least one URL each. */
function conferenceSystems(env: Env): Config['gateways']['conferenceSystems'] {
  const out: Config['gateways']['conferenceSystems'] = new Map();
  const raw = env[CONFERENCE_SYSTEMS];
  if (raw === undefined || raw.trim() === '') return out;
  let parsed: unknown;
  try { parsed = JSON.parse(raw); } catch { throw new ConfigError(CONFERENCE_SYSTEMS, 'must be a JSON object {"<domain>": {"whip": "https://…", "whep": "https://…", "token": "…"}}'); }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(CONFERENCE_SYSTEMS, 'must be a JSON object keyed by domain');
  for (const [domain, v] of Object.entries(parsed)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(CONFERENCE_SYSTEMS, `${domain}: must be an object`);
    const e = v as Record<string, unknown>;
    const field = (k: 'whip' | 'whep' | 'token'): string | undefined => {
      const x = e[k];
      if (x === undefined || x === null || x === '') return undefined;
      if (typeof x !== 'string') throw new ConfigError(CONFERENCE_SYSTEMS, `${domain}.${k}: must be a string`);
      if (k !== 'token' && !HTTP_URL.test(x)) throw new ConfigError(CONFERENCE_SYSTEMS, `${domain}.${k}: must be an http(s) URL`);
      return x;
    };
    const system = { whip: field('whip'), whep: field('whep'), token: field('token') };
    if (system.whip === undefined && system.whep === undefined) throw new ConfigError(CONFERENCE_SYSTEMS, `${domain}: needs "whip" and/or "whep"`);
    out.set(domain.trim().toLowerCase(), system);
  }
  return out;
}

/** `1.2.3.4`, `1.2.3.4:5353`, `2001:db8::1` or `[2001:db8::1]:5353`, as `Resolver.setServers` takes them. */
function dnsServers(env: Env): string[] {
  const name = 'STROWGER_DNS_SERVERS';
  const items = (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(item) ?? /^([^:]+)(?::(\d+))?$/.exec(item) ?? [item, item, undefined];
    const portText = m[2];
    if (isIP(m[1]!) === 0 || (portText !== undefined && !(Number(portText) > 0 && Number(portText) < 65536))) {
      throw new ConfigError(name, `"${item}" is not an IP address with an optional port`);
    }
  }
  return items;
}

/** Unset: undefined (the default policy); `*`: any; else origins compared without a trailing slash, lower case. */
function wsOrigins(env: Env): string[] | undefined {
  const raw = env.STROWGER_SIP_WS_ORIGINS;
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((s) => s.trim().replace(/\/$/, '').toLowerCase()).filter(Boolean);
  for (const o of items) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError('STROWGER_SIP_WS_ORIGINS', `"${o}" is not an origin like https://pbx.example.com or *`);
  }
  return items;
}

/** `cert.pem:key.pem,cert2.pem:key2.pem`: each file must exist, so a typo stops the server. */
function tlsCertPairs(env: Env): Array<{ certFile: string; keyFile: string }> {
  const name = 'STROWGER_SIP_TLS_CERTS';
  return (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((pair) => {
    const [certFile, keyFile, extra] = pair.split(':');
    if (!certFile || !keyFile || extra !== undefined) throw new ConfigError(name, `"${pair}" is not cert.pem:key.pem`);
    for (const f of [certFile, keyFile]) if (!existsSync(f)) throw new ConfigError(name, `${f} does not exist`);
    return { certFile, keyFile };
  });
}

/** `STROWGER_TRANSCRIPTION_ENGINE`: `none` (default) or `pocketsphinx`. */
function transcriptionEngine(env: Env): string {
  const v = (env.STROWGER_TRANSCRIPTION_ENGINE || 'none').trim().toLowerCase();
  if (!TRANSCRIPTION_ENGINE_NAMES.includes(v)) throw new ConfigError('STROWGER_TRANSCRIPTION_ENGINE', `must be one of ${TRANSCRIPTION_ENGINE_NAMES.join(', ')}, got "${v}"`);
  return v;
}
