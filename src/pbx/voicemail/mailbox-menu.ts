/**
 * The owner's mailbox menu: a device dials the voicemail number (`STROWGER_VOICEMAIL_NUMBER`,
 * default `*97`) and reaches its own mailbox (`device:<id>`). It hears how many new and
 * saved messages there are, then uses the keys:
 *
 *   1  play the first message, then the next one
 *   2  play the current message again
 *   7  delete the current message
 *   9  save the current message (it stays, as read) and skip to the next
 *   #  goodbye (hang up)
 *
 * New messages come first (oldest first), then saved ones; a message becomes read when it
 * starts playing. A key cuts the prompt or message that is playing. Every change goes through
 * `VoicemailFiles`, so MWI and the API see it at once.
 */
import type { Logger } from 'pino';
import type { DtmfDigit } from '../../media/tone.ts';
import type { VoicemailRow } from '../../store/schema.ts';
import { listVoicemails, mailboxKey } from '../../store/voicemails.ts';
import type { LocalParty, LocalPartyIo } from '../call-local.ts';
import type { VoicemailDeps } from './deposit.ts';
import { LegAudio } from './leg-audio.ts';

const MAX_MESSAGES = 200;
const CHOICES = 'Press 1 for the next message, 2 to repeat, 7 to delete, 9 to save, or pound to exit.';

const plural = (n: number, one: string) => `${n === 0 ? 'no' : n} ${one}${n === 1 ? '' : 's'}`;

export class MailboxMenu implements LocalParty {
  private audio: LegAudio | undefined;
  private io: LocalPartyIo | undefined;
  private messages: VoicemailRow[] = [];
  /** Index of the current message; -1 before the first is played. */
  private index = -1;
  private readonly keys: DtmfDigit[] = [];
  private wake: (() => void) | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly d: VoicemailDeps, private readonly deviceId: number) {
    this.log = d.logger.child({ component: 'voicemail-menu', device: deviceId });
  }

  start(io: LocalPartyIo): void {
    this.io = io;
    this.audio = new LegAudio(this.d.media, this.d.ends, io.legId);
    void this.run(io, this.audio).catch((err: unknown) => {
      this.log.error({ err }, 'mailbox menu failed');
      if (!this.stopped) io.hangup();
    });
  }

  digit(digit: DtmfDigit): void {
    this.keys.push(digit);
    this.audio?.interrupt();
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.audio?.interrupt();
    this.wake?.();
  }

  private async run(io: LocalPartyIo, audio: LegAudio): Promise<void> {
    await this.d.media.unbridge(io.legId).catch(() => {});
    const mailbox = mailboxKey({ kind: 'device', id: this.deviceId });
    const [fresh, saved] = await Promise.all([
      listVoicemails(this.d.db, { mailboxes: [mailbox], read: false, limit: MAX_MESSAGES, offset: 0 }),
      listVoicemails(this.d.db, { mailboxes: [mailbox], read: true, limit: MAX_MESSAGES, offset: 0 }),
    ]);
    // Listings are newest first; the menu plays oldest first.
    this.messages = [...fresh.rows.reverse(), ...saved.rows.reverse()];
    await this.say(`You have ${plural(fresh.total, 'new message')} and ${plural(saved.total, 'saved message')}. ${this.messages.length ? 'Press 1 to listen, or pound to exit.' : 'Press pound to exit.'}`);
    while (!this.stopped) {
      const key = this.keys.shift();
      if (key === undefined) { await new Promise<void>((r) => { this.wake = r; }); this.wake = undefined; continue; }
      if (key === '#') break;
      await this.press(key);
    }
    if (this.stopped) return;
    await this.say('Goodbye.');
    io.hangup();
  }

  private async press(key: DtmfDigit): Promise<void> {
    const current = this.messages[this.index];
    switch (key) {
      case '1': return this.play(this.index + 1);
      case '2': return current ? this.play(this.index) : this.say('There is no message to repeat.');
      case '7': {
        if (!current) return this.say('There is no message to delete.');
        await this.d.files.remove(current.id);
        this.messages.splice(this.index, 1);
        this.index--;
        return this.say(`Message deleted. ${this.messages.length > this.index + 1 ? 'Press 1 for the next message.' : 'No more messages.'}`);
      }
      case '9': {
        if (!current) return this.say('There is no message to save.');
        return this.play(this.index + 1, 'Message saved. ');
      }
      default: return this.say(this.index < 0 ? 'Press 1 to listen, or pound to exit.' : CHOICES);
    }
  }

  /** Plays message `i` (marking it read), or says there are no more. */
  private async play(i: number, before = ''): Promise<void> {
    const m = this.messages[i];
    if (!m) { this.index = Math.min(i, this.messages.length); await this.say(`${before}No more messages. Press pound to exit.`); return; }
    this.index = i;
    if (m.read === 0) await this.d.files.markRead(m.id, true);
    const intro = await this.d.prompts.speech(`${before}Message ${i + 1}, from ${spellNumber(m.caller_number)}.`);
    const choices = await this.d.prompts.speech(CHOICES);
    await this.audio!.play([intro, this.d.files.absolutePath(m), choices]);
  }

  private async say(text: string): Promise<void> {
    if (this.stopped) return;
    await this.audio!.play([await this.d.prompts.speech(text)]);
  }
}

const spellNumber = (n: string) => (/^\+?\d+$/.test(n) ? n.replace(/^\+/, '').split('').join(' ') : n);
