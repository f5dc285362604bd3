/**
 * Events and actions of the call gateway (seed 002), in their two wire formats: JSON objects
 * `{timestamp, call_id, event, …}` and the protobuf messages of `proto/callgw.proto` (same
 * field names). Hooks use the number's `hook_content_type`; WebSocket clients choose.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

export type CallEventName = 'incoming' | 'ringing' | 'early_media' | 'accepted' | 'ended' | 'dtmf';
export type WireFormat = 'json' | 'protobuf';

export interface CallEvent {
  /** ms since the epoch. */
  timestamp: number;
  call_id: string;
  event: CallEventName;
  direction: 'outgoing' | 'incoming';
  app_id: string;
  from_number: string;
  to_number: string;
  reason?: string;
  sip_code?: number;
  digit?: string;
  duration_ms?: number;
  /** ended: the recording's path when the call was recorded in its room. */
  recording?: string;
}

export type CallAction = { action: 'end' } | { action: 'dtmf'; digits: string } | { action: 'mute'; muted: boolean } | { action: 'webrtc_offer'; sdp: string };

export interface HookAnswer { action?: string; stream?: { room?: string; peer?: string; record?: boolean } }

const root = new protobuf.Root().loadSync(new URL('../../proto/callgw.proto', import.meta.url).pathname, { keepCase: true });
const EventType = root.lookupType('strowger.callgw.CallEvent');
const ActionType = root.lookupType('strowger.callgw.CallAction');
const HookAnswerType = root.lookupType('strowger.callgw.HookAnswer');

/** The schema text, served at `GET /call/proto` so clients need not copy it. */
export const PROTO_TEXT = readFileSync(new URL('../../proto/callgw.proto', import.meta.url), 'utf8');

export function encodeEvent(e: CallEvent, format: WireFormat): Buffer | string {
  if (format === 'json') return JSON.stringify(e);
  return Buffer.from(EventType.encode(EventType.fromObject(e)).finish());
}

export function decodeEvent(data: Uint8Array): CallEvent {
  return EventType.toObject(EventType.decode(data), { longs: Number, defaults: false }) as CallEvent;
}

/** Thrown for an action frame that is not one of ours. */
export class ActionError extends Error {}

/**
 * A client's action: JSON `{"action":"end"}`, `{"action":"dtmf","digits":"12#"}`,
 * `{"action":"mute","muted":true}`, or a protobuf `CallAction`.
 */
export function decodeAction(data: Buffer | string, binary: boolean): CallAction {
  if (binary) {
    let m: Record<string, any>;
    try { m = ActionType.toObject(ActionType.decode(data as Buffer), { oneofs: true }); } catch (err) { throw new ActionError(`not a CallAction: ${(err as Error).message}`); }
    if (m.action === 'end') return { action: 'end' };
    if (m.action === 'dtmf') return dtmfAction(m.dtmf?.digits);
    if (m.action === 'mute') return { action: 'mute', muted: m.mute?.muted === true };
    throw new ActionError('CallAction has no action set');
  }
  let j: any;
  try { j = JSON.parse(data.toString()); } catch { throw new ActionError('not JSON'); }
  if (j === null || typeof j !== 'object') throw new ActionError('expected an object');
  if (j.action === 'end') return { action: 'end' };
  if (j.action === 'dtmf') return dtmfAction(j.digits);
  if (j.action === 'mute') {
    if (typeof j.muted !== 'boolean') throw new ActionError('mute needs "muted": true|false');
    return { action: 'mute', muted: j.muted };
  }
  if (j.action === 'webrtc_offer') {
    if (typeof j.sdp !== 'string' || !j.sdp.startsWith('v=0') || j.sdp.length > 65536) throw new ActionError('webrtc_offer needs "sdp": an SDP offer (v=0…, at most 64 KiB)');
    return { action: 'webrtc_offer', sdp: j.sdp };
  }
  throw new ActionError(`unknown action ${JSON.stringify(j.action)}; expected end, dtmf, mute or webrtc_offer`);
}

function dtmfAction(digits: unknown): CallAction {
  if (typeof digits !== 'string' || !/^[0-9A-Da-d*#]{1,32}$/.test(digits)) throw new ActionError('dtmf needs "digits": 1-32 of 0-9, A-D, *, #');
  return { action: 'dtmf', digits };
}

/** Protobuf frames carry end/dtmf/mute only (a WebRTC offer is a JSON text frame). */
export function encodeAction(a: Exclude<CallAction, { action: 'webrtc_offer' }>): Buffer {
  const obj = a.action === 'end' ? { end: {} } : a.action === 'dtmf' ? { dtmf: { digits: a.digits } } : { mute: { muted: a.muted } };
  return Buffer.from(ActionType.encode(ActionType.fromObject(obj)).finish());
}

/** The answer body of an `incoming` hook, per the hook's content type; {} when empty or unreadable. */
export function decodeHookAnswer(body: Buffer, format: WireFormat): HookAnswer {
  if (body.length === 0) return {};
  try {
    if (format === 'protobuf') return HookAnswerType.toObject(HookAnswerType.decode(body)) as HookAnswer;
    const j = JSON.parse(body.toString());
    return j && typeof j === 'object' ? j as HookAnswer : {};
  } catch {
    return {};
  }
}

export function encodeHookAnswer(a: HookAnswer): Buffer {
  return Buffer.from(HookAnswerType.encode(HookAnswerType.fromObject(a)).finish());
}
