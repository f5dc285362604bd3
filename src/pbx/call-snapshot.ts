/**
 * A call as plain data: the snapshot the API and logs read, and the CDR's start fields. Both
 * follow the call's current parties (after a transfer or a Replaces, the legs that took a
 * side's place).
 */
import type { CallStart } from '../store/cdrs.ts';
import { isoNow } from '../store/time.ts';
import type { Call, CallState } from './call.ts';
import type { HoldSnapshot } from './call-hold.ts';
import type { LegSnapshot } from './leg-types.ts';

/** A call as the API and logs see it: plain data. */
export interface CallSnapshot {
  id: string;
  state: CallState;
  direction: string;
  caller: string;
  callee: string;
  didNumber: string | null;
  codec: string | null;
  startedAt: number;
  answeredAt: number | null;
  legs: { a: LegSnapshot; b: LegSnapshot };
  hold: HoldSnapshot;
}

export function callSnapshot(call: Call): CallSnapshot {
  const b: LegSnapshot = call.partyB?.snapshot() ?? {
    id: '', kind: 'sip-uac', sipCallId: call.bCallId, peer: null, mediaLegId: call.legB.id, codec: call.codec,
  };
  return {
    id: call.id, state: call.state, direction: call.decision.direction, caller: call.origin.caller, callee: call.origin.callee,
    didNumber: call.decision.didNumber, codec: call.codec, startedAt: call.startedAt, answeredAt: call.answeredAt,
    legs: { a: call.partyA.snapshot(), b }, hold: call.hold.snapshot(),
  };
}

export function callStartOf(call: Call): CallStart {
  const won = call.winner?.callTarget;
  const { origin, decision } = call;
  return {
    call_id: call.cdrId,
    a_call_id: call.partyA.sipCallId,
    b_call_id: call.partyB?.sipCallId ?? call.bCallId,
    caller: origin.caller,
    callee: origin.callee,
    did_id: decision.didId,
    did_number: decision.didNumber,
    caller_device_id: origin.callerDeviceId,
    callee_device_id: origin.calleeDeviceId !== undefined ? origin.calleeDeviceId : won?.kind === 'contact' ? won.deviceId : decision.calleeDeviceId,
    trunk_id: origin.trunkId ?? (won?.kind === 'trunk' ? won.trunk.id : null),
    direction: decision.direction,
    start_time: isoNow(call.startedAt),
    answer_time: call.answeredAt === null ? null : isoNow(call.answeredAt),
    codec: call.codec,
    twilio_call_sid: origin.twilioCallSid ?? null,
  };
}
