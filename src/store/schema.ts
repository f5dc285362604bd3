/**
 * The database as Kysely sees it: one interface per table. Timestamps are ISO-8601 UTC
 * text, booleans 0/1 integers, JSON columns text — identical on SQLite and PostgreSQL.
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  email: string;
  password_hash: string;
  role: 'admin' | 'user';
  dnd_enabled: Generated<number>;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  /** SHA-256 of the cookie token: a stolen database does not yield live sessions. */
  id: string;
  user_id: number;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiKeysTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  prefix: string;
  secret_hash: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
}

export interface SystemConfigTable {
  key: string;
  value: string;
  encrypted: number;
  updated_at: string;
}

/** ZRTP retained secrets per peer ZID (hex); rs1/rs2 sealed by the secret box. */
export interface ZrtpCacheTable {
  peer_zid: string;
  rs1: string | null;
  rs2: string | null;
  verified: number;
  updated_at: string;
}

export interface DevicesTable {
  id: Generated<number>;
  name: string;
  username: string;
  /** AES-256-GCM under the secret key: digest auth needs the clear password to derive HA1. */
  password_enc: string;
  type: string;
  user_id: number | null;
  caller_id: string | null;
  dnd_enabled: Generated<number>;
  /** Digest challenge the device is sent: 'MD5' (default), 'SHA-256' or 'both' (see DigestAlgorithmSetting). */
  digest_algorithm: Generated<string>;
  /** The provisioning profile its configuration is rendered from (null: vendor defaults). */
  provisioning_profile_id: Generated<number | null>;
  /** 1: busy, unanswered or unregistered calls to the device go to its mailbox. */
  voicemail_enabled: Generated<number>;
  /** Where the device's new voicemails are mailed; null: the system setting `voicemail_email`. */
  voicemail_email: string | null;
  /** 1: message-summary NOTIFYs without a subscription (unsolicited MWI). */
  mwi_unsolicited: Generated<number>;
  /** SDES-SRTP policy towards the device: 'off' (default), 'optional', 'required'. */
  srtp: Generated<string>;
  created_at: string;
  updated_at: string;
}

export interface DeviceEventsTable {
  id: Generated<number>;
  device_id: number | null;
  category: string;
  type: string;
  detail: string;
  source_ip: string | null;
  created_at: string;
}

export interface DidsTable {
  id: Generated<number>;
  phone_number: string;
  friendly_name: string | null;
  capabilities: string;
  twilio_sid: string | null;
  created_at: string;
  updated_at: string;
  /** Set by a Twilio sync that no longer found the number on the account. */
  released_at: string | null;
}

export interface RoutesTable {
  id: Generated<number>;
  name: string;
  did_id: number | null;
  priority: number;
  conditions: string;
  action: string;
  action_data: string;
  enabled: Generated<number>;
  created_at: string;
  updated_at: string;
}

export interface BlocklistTable {
  id: Generated<number>;
  phone_number: string;
  reason: string | null;
  created_at: string;
}

export interface RegistrationsTable {
  id: Generated<number>;
  device_id: number;
  aor: string;
  /** RFC 5626 instance+reg-id when given, else the contact URI (RFC 3261 §10.3 step 7). */
  binding_key: string;
  contact_uri: string;
  /** The Contact value as the device sent it. */
  contact: string;
  q: number;
  expires_at: string;
  instance_id: string | null;
  reg_id: number | null;
  call_id: string;
  /** bigint on PostgreSQL: comes back as a string there. */
  cseq: number | string;
  transport: string;
  source_ip: string;
  source_port: number;
  local_port: number | null;
  user_agent: string | null;
  created_at: string;
  updated_at: string;
}

export interface TrunksTable {
  id: Generated<number>;
  name: string;
  /** Hostname, IPv4 or IPv6 address (without brackets). */
  host: string;
  /** 0 = not given: RFC 3263 looks up SRV records. */
  port: number;
  /** 'auto' = not given: RFC 3263 looks up NAPTR records. */
  transport: 'udp' | 'tcp' | 'tls' | 'auto';
  username: string | null;
  /** AES-256-GCM under the secret key: the digest client needs the clear password. */
  password_enc: string | null;
  /** JSON array of canonical addresses and CIDRs. */
  inbound_hosts: string;
  /** `default` is an SQL keyword. At most one row has 1 (partial unique index). */
  is_default: Generated<number>;
  enabled: Generated<number>;
  from_domain: string | null;
  caller_id: string | null;
  created_at: string;
  updated_at: string;
  /** 1 = verify the TLS server certificate (default), 0 = skip. */
  tls_verify: Generated<number>;
  /** PEM CA(s) trusted for this trunk besides the system's. */
  tls_ca: string | null;
  /** Pinned SHA-256 certificate fingerprint (AA:BB:…). */
  tls_fingerprint: string | null;
  srtp: Generated<string>;
}

export interface CdrsTable {
  id: Generated<number>;
  /** Our opaque call id (one CDR per call). */
  call_id: string;
  /** SIP Call-IDs of the two legs; b is null when no outgoing leg was created. */
  a_call_id: string;
  b_call_id: string | null;
  caller: string;
  callee: string;
  did_id: number | null;
  did_number: string | null;
  caller_device_id: number | null;
  callee_device_id: number | null;
  trunk_id: number | null;
  direction: 'inbound' | 'outbound' | 'internal';
  start_time: string;
  answer_time: string | null;
  end_time: string;
  duration: number;
  billsec: number;
  disposition: 'answered' | 'busy' | 'no_answer' | 'failed' | 'cancelled' | 'rejected' | 'blocked';
  hangup_cause: string;
  hangup_by: 'caller' | 'callee' | 'system' | 'api';
  sip_code: number | null;
  codec: string | null;
  created_at: string;
  /** Twilio's CallSid when the call came through Twilio's `<Dial><Sip>` (joins `twilio_calls`). */
  twilio_call_sid: string | null;
}

export interface ActiveCallsTable {
  call_id: string;
  /** The node that carries the call: only its own start-up closes its orphans. */
  node_id: string;
  /** JSON of what is known so far (the CDR fields up to answer). */
  data: string;
  created_at: string;
  updated_at: string;
}

/**
 * Music-on-hold files uploaded by an admin, each converted to the internal format (WAV,
 * 16-bit PCM, mono, 16 kHz) and stored as `<data dir>/media/moh/<id>.wav`. The `original_*`
 * columns describe what was uploaded; the others describe the stored file.
 */
export interface MohFilesTable {
  id: Generated<number>;
  name: string;
  original_filename: string;
  /** ffprobe's container name, e.g. `mp3`, `ogg`, `wav`, `mov,mp4,m4a,3gp,3g2,mj2`. */
  original_format: string;
  /** ffprobe's codec name of the audio stream used, e.g. `mp3`, `vorbis`, `pcm_s16le`. */
  original_codec: string;
  original_sample_rate: number;
  original_channels: number;
  original_size: number;
  /** Of the stored audio, in milliseconds (integers stay exact on both engines). */
  duration_ms: number;
  sample_rate: number;
  /** Bytes of the stored WAV file. */
  size: number;
  created_at: string;
}

/** SMS/MMS, inbound and outbound; queued rows are the send queue (see migration 130). */
export interface MessagesTable {
  id: Generated<number>;
  direction: 'inbound' | 'outbound';
  did_id: number | null;
  did_number: string | null;
  from_number: string;
  to_number: string;
  /** The other party: `to` of an outbound message, `from` of an inbound one (conversation key). */
  peer_number: string;
  body: string;
  /** JSON array of http(s) URLs. */
  media_urls: string;
  status: string;
  twilio_sid: string | null;
  error_code: number | null;
  error_message: string | null;
  read: Generated<number>;
  attempts: Generated<number>;
  next_attempt_at: string | null;
  user_id: number | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
  delivered_at: string | null;
}

/** Twilio's view of calls reaching us through its voice webhooks (see migration 131). */
export interface TwilioCallsTable {
  call_sid: string;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  did_id: number | null;
  status: string;
  duration: number | null;
  recording_sid: string | null;
  recording_url: string | null;
  recording_status: string | null;
  recording_duration: number | null;
  transcription_sid: string | null;
  transcription_status: string | null;
  transcription_text: string | null;
  created_at: string;
  updated_at: string;
}

export interface ProvisioningProfilesTable {
  id: Generated<number>;
  name: string;
  vendor: string;
  /** JSON of the profile's settings (validated per vendor by the API). */
  config: string;
  created_at: string;
  updated_at: string;
}

export interface ProvisioningTokensTable {
  id: Generated<number>;
  device_id: number;
  /** SHA-256 hex of the token: the plaintext is shown once, when the token is created. */
  token_hash: string;
  /** The token's first characters, so a list can tell tokens apart without revealing them. */
  token_prefix: string;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
  use_count: Generated<number>;
  created_by: number | null;
  created_at: string;
}

/**
 * Voicemail messages. `mailbox` is `device:<id>` or `did:<id>` (see src/store/voicemails.ts);
 * the audio is `<data dir>/media/<file_path>`.
 */
export interface VoicemailsTable {
  id: Generated<number>;
  mailbox: string;
  device_id: number | null;
  did_id: number | null;
  /** Our call id of the call that left the message. */
  call_id: string | null;
  /** Twilio's CallSid of that call when it came through Twilio (joins `twilio_calls`). */
  twilio_call_sid: string | null;
  caller_number: string;
  caller_name: string | null;
  /** The number or extension the caller dialled. */
  called: string;
  duration_seconds: number;
  /** Relative to `<data dir>/media`, e.g. `voicemail/device-3/17.wav`. */
  file_path: string;
  /** Bytes of the stored file. */
  size: number;
  /** Container and encoding, e.g. `wav` (16-bit PCM mono 8 kHz). */
  format: string;
  read: Generated<number>;
  read_at: string | null;
  transcription: string | null;
  /** `none` | `pending` | `done` | `failed`. */
  transcription_state: Generated<string>;
  transcription_engine: string | null;
  /** `none` (no address) | `pending` | `sent` | `failed`. */
  mail_state: Generated<string>;
  mail_error: string | null;
  created_at: string;
}

/** Mails still to send, one per voicemail; removed when sent or given up. */
export interface VoicemailMailOutboxTable {
  id: Generated<number>;
  voicemail_id: number;
  recipient: string;
  attempts: Generated<number>;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
}

export interface DB {
  trunks: TrunksTable;
  cdrs: CdrsTable;
  active_calls: ActiveCallsTable;
  registrations: RegistrationsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  system_config: SystemConfigTable;
  zrtp_cache: ZrtpCacheTable;
  devices: DevicesTable;
  device_events: DeviceEventsTable;
  dids: DidsTable;
  routes: RoutesTable;
  blocklist: BlocklistTable;
  moh_files: MohFilesTable;
  messages: MessagesTable;
  twilio_calls: TwilioCallsTable;
  provisioning_profiles: ProvisioningProfilesTable;
  provisioning_tokens: ProvisioningTokensTable;
  voicemails: VoicemailsTable;
  voicemail_mail_outbox: VoicemailMailOutboxTable;
  apps: import('./schema-call-gateway.ts').AppsTable;
  call_numbers: import('./schema-call-gateway.ts').CallNumbersTable;
  hooks_outbox: import('./schema-call-gateway.ts').HooksOutboxTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type DeviceRow = Selectable<DevicesTable>;
export type DidRow = Selectable<DidsTable>;
export type RouteRow = Selectable<RoutesTable>;
export type BlocklistRow = Selectable<BlocklistTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type DeviceEventRow = Selectable<DeviceEventsTable>;
export type RegistrationRow = Selectable<RegistrationsTable>;
export type TrunkRow = Selectable<TrunksTable>;
export type CdrRow = Selectable<CdrsTable>;
export type ActiveCallRow = Selectable<ActiveCallsTable>;
export type MohFileRow = Selectable<MohFilesTable>;
export type MessageRow = Selectable<MessagesTable>;
export type TwilioCallRow = Selectable<TwilioCallsTable>;
export type ProvisioningProfileRow = Selectable<ProvisioningProfilesTable>;
export type ProvisioningTokenRow = Selectable<ProvisioningTokensTable>;
export type VoicemailRow = Selectable<VoicemailsTable>;
export type VoicemailMailOutboxRow = Selectable<VoicemailMailOutboxTable>;
