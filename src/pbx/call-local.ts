/**
 * Calls answered by the PBX itself: the caller's leg is answered with our own SDP
 * (`answerOffer` with no preferred codec) and a local party — voicemail deposit, the owner's mailbox menu —
 * plays to and records from the caller's media endpoint. The call stays a normal `Call`
 * (dialog, BYE, INFO digits, journal and CDR as any answered call); only its callee is local.
 */
import type { MailboxRef } from '../store/voicemails.ts';
import type { DtmfDigit } from '../media/tone.ts';

/** What answers a call locally. */
export type LocalTarget =
  | { kind: 'voicemail'; mailbox: MailboxRef }
  | { kind: 'voicemail-menu'; deviceId: number }
  /** The caller joins a room (`src/rooms/room-caller.ts`). */
  | { kind: 'room'; room: string }
  /** The room-number IVR (`src/rooms/room-ivr.ts`). */
  | { kind: 'ivr' };

/** What the local party may do with its call. */
export interface LocalPartyIo {
  /** Our call id (the CDR's `call_id`). */
  callId: string;
  /** The caller's media endpoint: play to it (`connect(legId, [player])`), record it. */
  legId: number;
  callerNumber: string;
  callerName: string | null;
  called: string;
  /** Twilio's CallSid when Twilio sent the call (stored with a voicemail). */
  twilioCallSid: string | null;
  /** Ends the call (BYE to the caller); the party's `stop` follows. */
  hangup(): void;
}

export interface LocalParty {
  /** The caller is answered and hears nothing yet. */
  start(io: LocalPartyIo): void;
  /** A key the caller pressed (any transport). */
  digit(digit: DtmfDigit): void;
  /** The call ended (caller hung up, or `io.hangup`): finish up, release media. Idempotent. */
  stop(): void;
}

/** Creates the party for a target; undefined when this node has none (the call is rejected). */
export type LocalPartyFactory = (target: LocalTarget) => LocalParty | undefined;

/** One factory out of several: the first that has a party for the target answers. */
export function firstParty(...factories: LocalPartyFactory[]): LocalPartyFactory {
  return (target) => {
    for (const f of factories) {
      const party = f(target);
      if (party !== undefined) return party;
    }
    return undefined;
  };
}
