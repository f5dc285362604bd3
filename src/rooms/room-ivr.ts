/**
 * The room-number IVR: a caller of the IVR number (`STROWGER_IVR_NUMBER`, default `0`, or a
 * user part registered with `RoomDialPlan.registerIvr`) hears a spoken prompt, types the room
 * number (at least {@link MIN_DIGITS} digits, `#` to finish; `*` starts over) and joins that
 * room (created on first use, as rooms are). A number too short, no number, or a room that
 * cannot take the caller (full, room limit) gives an error prompt and another try, at most
 * {@link MAX_ATTEMPTS}; then goodbye and hang-up.
 *
 * Entry ends with `#`, or when no key comes for `digitTimeoutMs` (before the first key too).
 * A key cuts the prompt that is playing (callers who know the number need not wait).
 */
import type { Logger } from 'pino';
import type { DtmfDigit } from '../media/tone.ts';
import type { LocalParty, LocalPartyIo } from '../pbx/call-local.ts';
import { LegAudio, type PlayerEnds, type VoicemailMedia } from '../pbx/voicemail/leg-audio.ts';
import type { Prompts } from '../pbx/voicemail/prompts.ts';
import { RoomCaller, type RoomCallerDeps } from './room-caller.ts';
import { RoomError } from './room-errors.ts';

export const MIN_DIGITS = 5;
export const MAX_ATTEMPTS = 3;
const MAX_DIGITS = 32;

export const IVR_TEXT = {
  welcome: `Welcome. Please enter the room number, at least ${MIN_DIGITS} digits, followed by the pound key.`,
  again: 'Please enter the room number, followed by the pound key.',
  none: 'No room number was entered.',
  short: `A room number has at least ${MIN_DIGITS} digits.`,
  full: 'That room is full.',
  unavailable: 'That room cannot be joined now.',
  goodbye: 'Goodbye.',
} as const;

export interface RoomIvrDeps extends RoomCallerDeps {
  media: RoomCallerDeps['media'] & VoicemailMedia;
  ends: PlayerEnds;
  prompts: Pick<Prompts, 'speech'>;
  /** How long to wait for the next key before the entry counts as finished. */
  digitTimeoutMs: number;
}

export class RoomIvr implements LocalParty {
  private audio: LegAudio | undefined;
  private inRoom: RoomCaller | undefined;
  private readonly keys: DtmfDigit[] = [];
  private wake: (() => void) | undefined;
  private playing = false;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly deps: RoomIvrDeps) {
    this.log = deps.logger.child({ component: 'room-ivr' });
  }

  start(io: LocalPartyIo): void {
    this.audio = new LegAudio(this.deps.media, this.deps.ends, io.legId);
    void this.run(io).catch((err: unknown) => {
      this.log.error({ err }, 'room IVR failed');
      if (!this.stopped) io.hangup();
    });
  }

  digit(digit: DtmfDigit): void {
    if (this.inRoom !== undefined) { this.inRoom.digit(digit); return; }
    this.keys.push(digit);
    if (this.playing) this.audio?.interrupt();
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.audio?.interrupt();
    this.wake?.();
    this.inRoom?.stop();
  }

  private async run(io: LocalPartyIo): Promise<void> {
    await this.deps.media.unbridge(io.legId).catch(() => {});
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && !this.stopped; attempt++) {
      await this.say(attempt === 1 ? IVR_TEXT.welcome : IVR_TEXT.again);
      const number = await this.collect();
      if (this.stopped) return;
      const problem = number.length === 0 ? IVR_TEXT.none : number.length < MIN_DIGITS ? IVR_TEXT.short : await this.join(io, number);
      if (problem === undefined) return;
      this.log.info({ attempt, digits: number.length, problem }, 'room IVR: entry refused');
      await this.say(problem);
    }
    if (this.stopped) return;
    await this.say(IVR_TEXT.goodbye);
    io.hangup();
  }

  /** Joins room `number`; the error prompt when the room cannot take the caller. */
  private async join(io: LocalPartyIo, number: string): Promise<string | undefined> {
    await this.say(`Joining room ${number.split('').join(' ')}.`);
    if (this.stopped) return undefined;
    const caller = new RoomCaller(this.deps, number);
    try {
      await caller.enter(io);
    } catch (err) {
      if (!(err instanceof RoomError)) throw err;
      return err.code === 'ROOM_FULL' ? IVR_TEXT.full : IVR_TEXT.unavailable;
    }
    this.inRoom = caller;
    // Hung up while joining: leave again.
    if (this.stopped) caller.stop();
    return undefined;
  }

  /** Keys up to `#` or a pause of `digitTimeoutMs` (keys pressed during the prompt count). */
  private async collect(): Promise<string> {
    let digits = '';
    while (!this.stopped) {
      const key = this.keys.shift();
      if (key === undefined) {
        if (!(await this.nextKey())) break;
        continue;
      }
      if (key === '#') break;
      if (key === '*') digits = '';
      else if (/[0-9]/.test(key) && digits.length < MAX_DIGITS) digits += key;
    }
    return digits;
  }

  /** Waits for a key; false on timeout. */
  private nextKey(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wake = undefined; resolve(false); }, this.deps.digitTimeoutMs);
      this.wake = () => { clearTimeout(timer); this.wake = undefined; resolve(true); };
    });
  }

  private async say(text: string): Promise<void> {
    if (this.stopped) return;
    const file = await this.deps.prompts.speech(text);
    // Keys pressed while the prompt was made cut it at once (the caller is typing already).
    if (this.keys.length > 0 || this.stopped) return;
    this.playing = true;
    try {
      await this.audio!.play([file]);
    } finally {
      this.playing = false;
    }
  }
}
