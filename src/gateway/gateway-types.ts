/**
 * What a gateway is, as the service and both APIs see it: the start parameters (seed 001's
 * names; seed 000's are mapped onto them), the states, and the small interface each kind
 * (Record, Streaming, SIP) implements.
 */
import type { Room } from '../rooms/room.ts';

export const GATEWAY_TYPES = ['Record', 'Streaming', 'SIP'] as const;
export type GatewayType = (typeof GATEWAY_TYPES)[number];

/**
 * `starting` → `running` → (`finalising` →) `stopped`; `failed` when it cannot go on (RTMP
 * server gone after the retries, recorder lost); `ended` for a gateway a restart cut short.
 */
export type GatewayState = 'starting' | 'running' | 'finalising' | 'stopped' | 'failed' | 'ended';

/** What the gateway is doing, as `/gateway/status` reports it (seed 001's names). */
export type GatewayTask = 'record' | 'record_transcript' | 'streaming' | 'sip';

export interface GatewayParams {
  type: GatewayType;
  room: string;
  gwId: string;
  /** Seed 001's `webrtc_domain` (which conference system): built-in rooms, or WHIP/WHEP URLs (`external-room.ts`). */
  webrtcDomain?: unknown;
  fromId?: string;
  prefix?: string;
  domain?: string;
  rtmpDst?: string;
  dial?: string;
  loop?: boolean;
  transcript?: boolean;
  audioOnly?: boolean;
  recipientMail?: string;
}

/** A running kind of gateway inside a room. */
export interface GatewayRunner {
  readonly task: GatewayTask;
  /** Joins the room; rejects (having left nothing behind) when it cannot. */
  start(room: Room): Promise<void>;
  /**
   * Leaves the room and finishes the work (close the file, transcribe, mail). `left` resolves
   * once the room no longer has it; the returned promise when everything is done.
   */
  stop(): { left: Promise<void>; done: Promise<void> };
  /** Figures for `/gateway/status` (recording time, transcript progress, retries…). */
  status(): Record<string, unknown>;
  /** The room participant of the gateway, when it is in the room. */
  readonly participantId: string | null;
  /** Executes a known command; false when this gateway has no such command. */
  command?(name: string, value: unknown): Promise<boolean>;
}

/** Told by a runner that it cannot go on (the service marks the gateway `failed`). */
export type RunnerFailed = (reason: string) => void;

/** What the service hands a runner it creates. */
export interface RunnerContext {
  rowId: number;
  failed: RunnerFailed;
  /** The gateway is over without fault (far end hung up): the service marks it `stopped`. */
  ended(reason: string): void;
}
