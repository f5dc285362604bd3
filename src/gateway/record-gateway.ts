/**
 * Record gateway: a recorder participant of the room (it hears the mix, says nothing) writing
 * a 16 kHz mono WAV. Audio only: the video composition of the seed's original is not done.
 * On stop the file is closed, optionally transcribed (the voicemail transcription engines)
 * and mailed to `recipientMail`; the service shows `finalising` meanwhile.
 *
 * Transcript progress: engines report no progress, so it is estimated from the elapsed time
 * against the recording's length (`TRANSCRIBE_SECONDS_PER_SECOND`), held below 100 until
 * the engine answers.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaEngine } from '../media/media-engine.ts';
import type { LegId } from '../media/relay-protocol.ts';
import type { Room } from '../rooms/room.ts';
import type { TranscriptionEngine } from '../integrations/transcription/index.ts';
import type { GatewayParams, GatewayRunner, GatewayTask } from './gateway-types.ts';
import type { RecordingMailer } from './recording-mail.ts';

/** A rough pocketsphinx pace on one core: used for the progress estimate only. */
const TRANSCRIBE_SECONDS_PER_SECOND = 0.5;

export interface RecordGatewayDeps {
  media: Pick<MediaEngine, 'createRecorder' | 'stopRecorder'>;
  /** Where recordings go (`<data dir>/media/gateways`). */
  dir: string;
  engine: TranscriptionEngine;
  mail: RecordingMailer;
  now?: () => number;
}

export class RecordGateway implements GatewayRunner {
  readonly task: GatewayTask;
  participantId: string | null = null;
  private room: Room | null = null;
  private recorder: LegId | null = null;
  private readonly file: string;
  private startedAt = 0;
  private stoppedAt: number | null = null;
  private transcribeStarted: number | null = null;
  private progress: number | null;
  private transcript: string | null = null;
  private transcriptError: string | null = null;
  private mailed: boolean | null;
  private stopping: { left: Promise<void>; done: Promise<void> } | null = null;
  private readonly now: () => number;

  constructor(private readonly params: GatewayParams, rowId: number, private readonly deps: RecordGatewayDeps) {
    const wantsTranscript = params.transcript === true && deps.engine.name !== 'none';
    this.task = params.transcript ? 'record_transcript' : 'record';
    this.progress = wantsTranscript ? 0 : null;
    if (params.transcript === true && !wantsTranscript) this.transcriptError = 'no transcription engine is configured (STROWGER_TRANSCRIPTION_ENGINE)';
    this.mailed = params.recipientMail ? false : null;
    this.file = join(deps.dir, `${rowId}-${params.gwId.replace(/[^A-Za-z0-9_.-]/g, '_')}.wav`);
    this.now = deps.now ?? Date.now;
  }

  async start(room: Room): Promise<void> {
    await mkdir(this.deps.dir, { recursive: true });
    const rec = await this.deps.media.createRecorder({ group: room.group, path: this.file, rate: 16000 });
    this.recorder = rec.id;
    try {
      const me = await room.join({ kind: 'recorder', displayName: this.params.fromId || `recorder ${this.params.gwId}`, endpoint: rec.id, speaks: false });
      this.participantId = me.id;
      this.room = room;
      this.startedAt = this.now();
    } catch (err) {
      await this.deps.media.stopRecorder(rec.id).catch(() => {});
      this.recorder = null;
      throw err;
    }
  }

  stop(): { left: Promise<void>; done: Promise<void> } {
    if (this.stopping !== null) return this.stopping;
    this.stoppedAt = this.now();
    const left = this.leave();
    const done = left.then(() => this.finish());
    this.stopping = { left, done };
    return this.stopping;
  }

  status(): Record<string, unknown> {
    return {
      recording_time: this.startedAt === 0 ? 0 : Math.floor(((this.stoppedAt ?? this.now()) - this.startedAt) / 1000),
      transcript_progress: this.currentProgress(),
      file: this.file,
      transcript: this.transcript,
      transcript_error: this.transcriptError,
      mailed: this.mailed,
      audio_only: true,
    };
  }

  private async leave(): Promise<void> {
    if (this.room !== null && this.participantId !== null) await this.room.leave(this.participantId).catch(() => false);
    this.participantId = null;
    if (this.recorder !== null) await this.deps.media.stopRecorder(this.recorder);
    this.recorder = null;
  }

  private async finish(): Promise<void> {
    if (this.progress !== null) {
      this.transcribeStarted = this.now();
      try {
        this.transcript = (await this.deps.engine.transcribe(this.file)).text;
      } catch (err) {
        this.transcriptError = (err as Error).message;
      }
      this.progress = 100;
    }
    if (this.params.recipientMail) {
      const seconds = this.status().recording_time as number;
      await this.deps.mail({
        to: this.params.recipientMail, room: this.params.room, gwId: this.params.gwId, seconds, file: this.file,
        transcript: this.progress === null ? null : this.transcript, transcriptError: this.transcriptError,
      });
      this.mailed = true;
    }
  }

  private currentProgress(): number | null {
    if (this.progress === null || this.progress === 100 || this.transcribeStarted === null) return this.progress;
    const expected = Math.max(1, ((this.stoppedAt ?? this.now()) - this.startedAt) * TRANSCRIBE_SECONDS_PER_SECOND);
    return Math.min(95, Math.floor((100 * (this.now() - this.transcribeStarted)) / expected));
  }
}
