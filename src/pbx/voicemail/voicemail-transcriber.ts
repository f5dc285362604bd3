/**
 * Transcribes voicemail messages after they are stored (issue 11), with the engine chosen by
 * `STROWGER_TRANSCRIPTION_ENGINE` (`src/integrations/transcription/`), and records the
 * outcome on the row: `transcription`, `transcription_state` (`pending` → `done` | `failed`)
 * and `transcription_engine`.
 *
 * `transcribe(row)` is the hook: called for every message stored, it is what
 * `pbx.voicemail.changed` `added` triggers when `listen()` is on (the server does that), and
 * what tests call with a WAV file. One message at a time: a recogniser takes a core for
 * seconds, and calls must keep the other one. With the `none` engine nothing happens
 * (state stays `none`). `resume()` re-queues messages a restart left `pending`.
 */
import type { Logger } from 'pino';
import type { EventSource, VoicemailChanged } from '../../events.ts';
import type { TranscriptionEngine } from '../../integrations/transcription/index.ts';
import { findVoicemail, setVoicemailTranscription, type TranscriptionState } from '../../store/voicemails.ts';
import { pendingTranscriptions } from '../../store/voicemail-transcriptions.ts';
import type { VoicemailRow } from '../../store/schema.ts';
import type { Db } from '../../store/db.ts';

export interface VoicemailTranscriberOptions {
  db: Db;
  engine: TranscriptionEngine;
  /** Where a message's audio is on disk (VoicemailFiles.absolutePath). */
  audioPath(row: Pick<VoicemailRow, 'file_path'>): string;
  logger: Logger;
  /** Told each message whose transcription ended (`done` or `failed`): its mail may go. */
  settled?: (voicemailId: number) => void;
}

export class VoicemailTranscriber {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  private events: EventSource | undefined;
  private closed = false;
  private readonly onChanged = (e: VoicemailChanged) => {
    if (e.reason !== 'added') return;
    void findVoicemail(this.o.db, e.voicemail_id).then((row) => row && this.transcribe(row))
      .catch((err) => this.log.error({ err, id: e.voicemail_id }, 'voicemail transcription failed'));
  };

  constructor(private readonly o: VoicemailTranscriberOptions) {
    this.log = o.logger.child({ component: 'transcription', engine: o.engine.name });
  }

  /** False for the `none` engine: messages are stored with `transcription_state` `none`. */
  get enabled(): boolean {
    return this.o.engine.name !== 'none';
  }

  /** Transcribes every message announced as added from now on. */
  listen(events: EventSource): void {
    this.events = events;
    events.on('pbx.voicemail.changed', this.onChanged);
  }

  /**
   * Queues `row` and resolves with its final state once its turn has run: `done` (text
   * stored, maybe ''), `failed` (engine error: logged, the message itself is kept), `none`
   * (no engine) or `deleted` (the message went away meanwhile).
   */
  transcribe(row: Pick<VoicemailRow, 'id' | 'file_path'>): Promise<TranscriptionState | 'deleted'> {
    if (!this.enabled || this.closed) return Promise.resolve('none');
    // `pending` at once, not when its turn comes: a restart meanwhile finds it (`resume`).
    const marked = setVoicemailTranscription(this.o.db, row.id, { state: 'pending', engine: this.o.engine.name });
    const run = this.queue.then(async () => (await marked) ? this.run(row) : 'deleted' as const);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Transcribes the messages a restart left `pending`; resolves with their count once done. */
  async resume(): Promise<number> {
    if (!this.enabled) return 0;
    const rows = await pendingTranscriptions(this.o.db);
    await Promise.all(rows.map((row) => this.transcribe(row)));
    return rows.length;
  }

  /** Stops listening; a transcription in progress finishes, queued ones are skipped. */
  close(): void {
    this.closed = true;
    this.events?.off('pbx.voicemail.changed', this.onChanged);
  }

  private async run(row: Pick<VoicemailRow, 'id' | 'file_path'>): Promise<TranscriptionState | 'deleted'> {
    const { db, engine } = this.o;
    if (this.closed) return 'pending';
    const started = Date.now();
    try {
      const r = await engine.transcribe(this.o.audioPath(row));
      const saved = await setVoicemailTranscription(db, row.id, { state: 'done', text: r.text, engine: r.engine });
      this.log.info({ id: row.id, ms: Date.now() - started, words: r.text ? r.text.split(' ').length : 0, confidence: r.confidence }, 'voicemail transcribed');
      if (saved) this.o.settled?.(row.id);
      return saved ? 'done' : 'deleted';
    } catch (err) {
      this.log.warn({ err, id: row.id }, 'voicemail transcription failed');
      const saved = await setVoicemailTranscription(db, row.id, { state: 'failed', engine: engine.name });
      if (saved) this.o.settled?.(row.id);
      return saved ? 'failed' : 'deleted';
    }
  }
}
