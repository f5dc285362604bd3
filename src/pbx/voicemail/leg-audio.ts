/**
 * Audio to and from one caller's media endpoint, for the PBX's own parties (voicemail
 * deposit, mailbox menu): play prompt files one after another (interruptible by a key),
 * and record what the caller says. Built on the media engine's players and recorders.
 */
import type { MediaEngine } from '../../media/media-engine.ts';

export type VoicemailMedia = Pick<MediaEngine, 'createPlayer' | 'createRecorder' | 'stopRecorder' | 'connect' | 'unbridge' | 'releaseLeg' | 'on' | 'off'>;

/**
 * Resolves waiters when players reach their end: one `ended` listener on the engine for every
 * call (a listener per playback would pile up on a busy node).
 */
export class PlayerEnds {
  private readonly waiting = new Map<number, () => void>();

  constructor(media: Pick<MediaEngine, 'on'>) {
    media.on('ended', (id) => { this.waiting.get(id)?.(); });
  }

  wait(id: number): Promise<void> {
    return new Promise((resolve) => this.waiting.set(id, () => { this.waiting.delete(id); resolve(); }));
  }

  /** Resolves the waiter of a player stopped early. */
  cut(id: number): void {
    this.waiting.get(id)?.();
  }
}

export class LegAudio {
  private current: number | undefined;
  private cancelled = false;

  constructor(private readonly media: VoicemailMedia, private readonly ends: PlayerEnds, readonly legId: number) {}

  /**
   * Plays `files` in order to the caller. Resolves true when all played to the end, false
   * when `interrupt` cut them short. The caller hears silence afterwards.
   */
  async play(files: readonly string[]): Promise<boolean> {
    for (const file of files) {
      if (this.cancelled) break;
      const player = await this.media.createPlayer({ near: this.legId, source: { file } });
      this.current = player.id;
      const ended = this.ends.wait(player.id);
      try {
        if (!this.cancelled) {
          await this.media.connect(this.legId, [player.id]);
          await ended;
        }
      } finally {
        this.current = undefined;
        await this.media.connect(this.legId, []).catch(() => {});
        await this.media.releaseLeg(player.id).catch(() => {});
      }
    }
    const complete = !this.cancelled;
    this.cancelled = false;
    return complete;
  }

  /**
   * Stops what is playing (a key was pressed, the call ended); between two `play`s it cuts
   * the next one, so a key pressed while a prompt is still being made is not lost.
   */
  interrupt(): void {
    this.cancelled = true;
    if (this.current !== undefined) this.ends.cut(this.current);
  }

  /** Records the caller into a 16-bit mono 8 kHz WAV at `path`; the returned function stops it once the file is complete. */
  async record(path: string): Promise<() => Promise<void>> {
    const rec = await this.media.createRecorder({ near: this.legId, path, format: 'wav', rate: 8000 });
    await this.media.connect(rec.id, [this.legId]);
    let stopping: Promise<void> | undefined;
    return () => (stopping ??= this.media.stopRecorder(rec.id));
  }
}
