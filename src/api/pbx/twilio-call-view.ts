/**
 * Twilio's side of a call as CDRs and voicemails show it: joined on read from `twilio_calls`
 * (status, recording and transcription callbacks, keyed by CallSid) through the row's
 * `twilio_call_sid`. Twilio's figures sit beside ours and never replace them: a CDR's own
 * `disposition`, `duration` and `billsec` are the SIP leg's as we saw it; `twilio.status` and
 * `twilio.duration` are Twilio's for its whole call (PSTN side included).
 */
import { Type } from '@sinclair/typebox';
import type { TwilioCallRow } from '../../store/schema.ts';
import type { Db } from '../../store/db.ts';
import { twilioCallsBySid } from '../../store/twilio-calls.ts';

const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const TwilioRecordingSchema = Type.Union([
  Type.Object({ sid: NullableString, url: NullableString, status: NullableString, duration: Type.Union([Type.Integer(), Type.Null()], { description: 'Seconds' }) }),
  Type.Null(),
], { description: "Twilio's recording of the call (recording callback); null when none was reported" });

export const TwilioCallSchema = Type.Union([
  Type.Object({
    status: Type.String({ description: "Twilio's last CallStatus (e.g. completed, no-answer)" }),
    duration: Type.Union([Type.Integer(), Type.Null()], { description: "Twilio's CallDuration, seconds" }),
    recording: TwilioRecordingSchema,
    transcription_status: NullableString,
  }),
  Type.Null(),
], { description: "Twilio's side of the call from its callbacks; null when Twilio sent no callback (or the call did not come through Twilio)" });

export const TwilioCallSidField = Type.Union([Type.String(), Type.Null()], { description: 'Twilio CallSid when the call came through Twilio' });

export function twilioRecordingView(r: TwilioCallRow | undefined) {
  if (!r || (r.recording_sid === null && r.recording_url === null)) return null;
  return { sid: r.recording_sid, url: r.recording_url, status: r.recording_status, duration: r.recording_duration };
}

export function twilioCallView(r: TwilioCallRow | undefined) {
  if (!r) return null;
  return { status: r.status, duration: r.duration, recording: twilioRecordingView(r), transcription_status: r.transcription_status };
}

/** `rows` viewed by `view`, each given its Twilio row (one query for the page). */
export async function withTwilioCalls<R extends { twilio_call_sid: string | null }, V>(
  db: Db, rows: readonly R[], view: (row: R, twilio: TwilioCallRow | undefined) => V,
): Promise<V[]> {
  const bySid = await twilioCallsBySid(db, rows.map((r) => r.twilio_call_sid));
  return rows.map((r) => view(r, r.twilio_call_sid === null ? undefined : bySid.get(r.twilio_call_sid)));
}
