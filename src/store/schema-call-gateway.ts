/** Tables of the seed 002 call gateway (migration 230); part of `DB` in `schema.ts`. */
import type { Generated, Selectable } from 'kysely';

export interface AppsTable {
  id: Generated<number>;
  app_id: string;
  name: string;
  /** SHA-256 hex of the app secret (Bearer lookup). */
  secret_hash: string;
  /** The secret sealed by the SecretBox (hook signatures need it in clear). */
  secret_enc: string;
  created_at: string;
  updated_at: string;
}

export interface CallNumbersTable {
  id: Generated<number>;
  number: string;
  app_id: string;
  /** JSON array of CIDR blocks allowed to deliver incoming calls. */
  subnets: string;
  auth_username: string | null;
  auth_password_enc: string | null;
  hook: string | null;
  /** 'Json' | 'Protobuf'. */
  hook_content_type: string;
  sip_server: string | null;
  sip_proxy: string | null;
  sip_username: string | null;
  sip_password_enc: string | null;
  synced: Generated<number>;
  created_at: string;
  updated_at: string;
}

export interface HooksOutboxTable {
  id: Generated<number>;
  call_id: string;
  seq: number;
  app_id: string;
  url: string;
  content_type: string;
  event: string;
  /** The event as JSON (encoded to protobuf at delivery when `content_type` says so). */
  payload: string;
  /** 'pending' | 'delivered' | 'failed'. */
  status: string;
  attempts: Generated<number>;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export type AppRow = Selectable<AppsTable>;
export type CallNumberRow = Selectable<CallNumbersTable>;
export type HookOutboxRow = Selectable<HooksOutboxTable>;
