/**
 * Leaving a message: the caller hears the mailbox's greeting, then the beep, then is
 * recorded until they hang up, press `#`, stay silent for `silenceSeconds`, or reach
 * `maxSeconds`. `#` during the greeting skips to the beep.
 *
 * The message is kept only when it holds at least `minSeconds` of audio up to the last sound
 * (trailing silence is cut off, a recording with no sound at all is dropped); a caller who
 * hangs up during the greeting leaves nothing, not even a file. Storage is crash-safe
 * (voicemail-files.ts).
 */
import { open, truncate } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { VoicemailConfig } from '../../config.ts';
import type { Db } from '../../store/db.ts';
import type { SecretBox } from '../../store/secret-box.ts';
import { findDeviceById } from '../../store/devices.ts';
import { findDidById } from '../../store/dids.ts';
import { getConfigValue } from '../../store/system-config.ts';
import type { MailboxRef } from '../../store/voicemails.ts';
import { wavHeader } from '../../media/audio-file/wav.ts';
import type { DtmfDigit } from '../../media/tone.ts';
import type { LocalParty, LocalPartyIo } from '../call-local.ts';
import type { VoicemailFiles } from './voicemail-files.ts';
import type { Prompts } from './prompts.ts';
import { LegAudio, type PlayerEnds, type VoicemailMedia } from './leg-audio.ts';
import { SilenceWatch } from './silence-watch.ts';

const RATE = 8000;
const BYTES_PER_SECOND = RATE * 2;
/** Kept after the last sound, so a message does not end mid-breath. */
const TAIL_BYTES = BYTES_PER_SECOND / 2;

export interface VoicemailDeps {
  db: Db;
  box: SecretBox;
  media: VoicemailMedia;
  ends: PlayerEnds;
  files: VoicemailFiles;
  prompts: Prompts;
  config: VoicemailConfig;
  logger: Logger;
}

type Ending = 'hangup' | 'key' | 'silence' | 'max';

/** Spoken digits ("1 0 0 1"), so espeak-ng reads an extension digit by digit. */
export const spell = (s: string) => s.split('').join(' ');

export class VoicemailDeposit implements LocalParty {
  private audio: LegAudio | undefined;
  private phase: 'greeting' | 'recording' | 'over' = 'greeting';
  private stopped = false;
  private endRecording: ((why: Ending) => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly d: VoicemailDeps, private readonly mailbox: MailboxRef) {
    this.log = d.logger.child({ component: 'voicemail', mailbox: `${mailbox.kind}:${mailbox.id}` });
  }

  start(io: LocalPartyIo): void {
    this.audio = new LegAudio(this.d.media, this.d.ends, io.legId);
    void this.run(io, this.audio).catch((err: unknown) => {
      this.log.error({ err }, 'voicemail deposit failed');
      if (!this.stopped) io.hangup();
    });
  }

  digit(digit: DtmfDigit): void {
    if (digit !== '#') return;
    if (this.phase === 'greeting') this.audio?.interrupt();
    else if (this.phase === 'recording') this.endRecording?.('key');
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.audio?.interrupt();
    this.endRecording?.('hangup');
  }

  private async run(io: LocalPartyIo, audio: LegAudio): Promise<void> {
    await this.d.media.unbridge(io.legId).catch(() => {});
    // Without speech (espeak-ng missing or failing) the caller still gets the beep and can leave a message.
    const [greeting, beep] = await Promise.all([this.spoken(this.greeting()), this.d.prompts.beep()]);
    if (this.stopped) return;
    if (greeting) await audio.play([greeting]);
    if (this.stopped) return;
    await audio.play([beep]);
    if (this.stopped) return;
    const tmp = await this.d.files.tempPath();
    const cfg = this.d.config;
    const ending = new Promise<Ending>((resolve) => { this.endRecording = resolve; });
    const stopRecorder = await audio.record(tmp);
    this.phase = 'recording';
    if (this.stopped) this.endRecording!('hangup');
    const watch = new SilenceWatch({ path: tmp, rate: RATE, silenceMs: cfg.silenceSeconds * 1000, onSilence: () => this.endRecording?.('silence') });
    watch.start();
    const max = setTimeout(() => this.endRecording?.('max'), cfg.maxSeconds * 1000);
    const why = await ending;
    clearTimeout(max);
    this.phase = 'over';
    await stopRecorder();
    await watch.poll().catch(() => {});
    await watch.stop();
    const seconds = await this.trim(tmp, watch.soundEnd + TAIL_BYTES);
    if (watch.soundEnd === 0 || seconds < cfg.minSeconds) {
      await this.d.files.discard(tmp);
      this.log.info({ why, seconds }, 'voicemail: too short, discarded');
    } else {
      const row = await this.d.files.store(tmp, {
        mailbox: this.mailbox, callId: io.callId, twilioCallSid: io.twilioCallSid, callerNumber: io.callerNumber, callerName: io.callerName, called: io.called,
        durationSeconds: Math.round(seconds), mailTo: await this.mailTo(),
      }, 'wav');
      this.log.info({ id: row.id, why, seconds: row.duration_seconds }, 'voicemail: message stored');
    }
    if (this.stopped) return;
    const bye = await this.spoken(this.d.prompts.speech('Thank you. Goodbye.'));
    if (bye) await audio.play([bye]);
    io.hangup();
  }

  /** A prompt, or null (logged) when speech synthesis failed. */
  private async spoken<T>(prompt: Promise<T>): Promise<T | null> {
    return prompt.catch((err: unknown) => {
      this.log.error({ err }, 'voicemail: speech prompt unavailable (is espeak-ng installed?)');
      return null;
    });
  }

  /** Cuts the WAV to `keepBytes` of audio (no-op when shorter); returns its duration in seconds. */
  private async trim(path: string, keepBytes: number): Promise<number> {
    const fh = await open(path, 'r+');
    try {
      const { size } = await fh.stat();
      const data = Math.max(0, size - 44);
      if (keepBytes >= data) return data / BYTES_PER_SECOND;
      const bytes = keepBytes - (keepBytes % 2);
      await fh.write(wavHeader(RATE, bytes), 0, 44, 0);
      await fh.close();
      await truncate(path, 44 + bytes);
      return bytes / BYTES_PER_SECOND;
    } finally {
      await fh.close().catch(() => {});
    }
  }

  private async greeting(): Promise<string> {
    if (this.mailbox.kind === 'device') {
      const device = await findDeviceById(this.d.db, this.mailbox.id);
      if (device) return this.d.prompts.speech(`Extension ${spell(device.username)} is not available. Please leave a message after the tone. Press pound when you are done.`);
    } else {
      const did = await findDidById(this.d.db, this.mailbox.id);
      if (did) return this.d.prompts.speech(`You have reached ${spell(did.phone_number.replace(/^\+/, ''))}. Please leave a message after the tone. Press pound when you are done.`);
    }
    return this.d.prompts.speech('Please leave a message after the tone. Press pound when you are done.');
  }

  /** The device's own address, else the system setting `voicemail_email`; null: no mail. */
  private async mailTo(): Promise<string | null> {
    if (this.mailbox.kind === 'device') {
      const device = await findDeviceById(this.d.db, this.mailbox.id);
      if (device?.voicemail_email) return device.voicemail_email;
    }
    return (await getConfigValue(this.d.db, this.d.box, 'voicemail_email')) ?? null;
  }
}
