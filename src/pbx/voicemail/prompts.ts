/**
 * Spoken prompts and the beep, as WAV files the media players read.
 *
 * Speech is generated at run time with `espeak-ng` (installed with the system packages, see
 * README) the first time a text is needed, and cached as `<data dir>/prompts/<sha1>.wav`:
 * a text is synthesised once per data dir, not per call, and a prompt changed in the code gets
 * a new name. Generation writes a temp name and renames, so a half-written file is never
 * played. The beep is synthesised here with the media layer's tone generator.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ToneGenerator } from '../../media/tone.ts';
import { wavHeader } from '../../media/audio-file/wav.ts';

const run = promisify(execFile);

/** The beep before recording: 1 kHz, 400 ms (a common voicemail beep). */
export const BEEP_HZ = 1000;
const BEEP_MS = 400;
const BEEP_RATE = 8000;

export class Prompts {
  private readonly dir: string;
  private readonly pending = new Map<string, Promise<string>>();

  constructor(dataDir: string, private readonly espeak = 'espeak-ng') {
    this.dir = join(dataDir, 'prompts');
  }

  /** The WAV of `text` spoken, generated on first use. */
  speech(text: string): Promise<string> {
    const name = `${createHash('sha1').update(`espeak-ng en 160\n${text}`).digest('hex')}.wav`;
    return this.cached(name, async (tmp) => { await run(this.espeak, ['-v', 'en', '-s', '160', '-w', tmp, text], { timeout: 30_000 }); });
  }

  /** The beep played before recording starts. */
  beep(): Promise<string> {
    return this.cached(`beep-${BEEP_HZ}-${BEEP_MS}.wav`, async (tmp) => {
      const pcm = new Int16Array((BEEP_RATE * BEEP_MS) / 1000);
      new ToneGenerator({ sampleRate: BEEP_RATE, frequencies: [BEEP_HZ], level: { dbm0: -10 } }).fill(pcm);
      const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
      await writeFile(tmp, Buffer.concat([wavHeader(BEEP_RATE, data.length), data]));
    });
  }

  private cached(name: string, make: (tmp: string) => Promise<void>): Promise<string> {
    const path = join(this.dir, name);
    let p = this.pending.get(name);
    if (p) return p;
    p = (async () => {
      try {
        await access(path);
        return path;
      } catch { /* not there yet */ }
      await mkdir(this.dir, { recursive: true });
      const tmp = join(this.dir, `.${randomUUID()}.tmp.wav`);
      try {
        await make(tmp);
        await rename(tmp, path);
      } finally {
        await rm(tmp, { force: true });
      }
      return path;
    })().finally(() => this.pending.delete(name));
    this.pending.set(name, p);
    return p;
  }
}
