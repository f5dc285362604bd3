/**
 * The local offline engine: CMU PocketSphinx from Debian (`pocketsphinx`, with its US English
 * acoustic model, language model and dictionary from `pocketsphinx-en-us` under
 * /usr/share/pocketsphinx/model/en-us, which `pocketsphinx_continuous` uses by default).
 *
 * The model is 16 kHz wideband, so the message is first converted to 16 kHz mono 16-bit WAV
 * by ffmpeg (already a run-time tool of the server, `pbx/moh-ffmpeg.ts`); telephone audio at
 * 8 kHz loses everything above 4 kHz either way, which costs accuracy (docs/TRANSCRIPTION.md
 * has the figures). Both tools run with argument arrays and a timeout, never a shell.
 *
 * `-time yes` makes pocketsphinx print one line per recognised token with its posterior:
 *
 *     <s> 0.000 0.120 0.999900
 *     the(2) 0.130 0.330 0.840784
 *     little 0.340 0.850 0.692295
 *     <sil> 1.840 1.990 0.937154
 *     </s> 3.280 3.530 1.000000
 *
 * Fillers (`<s>`, `</s>`, `<sil>`, `[NOISE]`…) are dropped and alternate pronunciations
 * (`the(2)`) named by their word; the confidence is the mean posterior of the words.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TranscriptionError, type TranscriptionEngine, type TranscriptionResult } from './types.ts';

export interface PocketsphinxOptions {
  /** Default `pocketsphinx_continuous`. */
  binary?: string;
  /** Default `ffmpeg`. */
  ffmpeg?: string;
  /** Kill either tool after this long (ms). Default 120 s (a 3-minute message takes ~10 s on one core). */
  timeoutMs?: number;
  /** Extra pocketsphinx arguments, e.g. `['-hmm', dir, '-lm', file, '-dict', file]` for another model. */
  extraArgs?: readonly string[];
}

const ENGINE = 'pocketsphinx';

/** Words and their posteriors from `-time yes` output (see the file comment). */
export function parsePocketsphinxTimes(stdout: string): { words: string[]; confidence: number | undefined } {
  const words: string[] = [];
  let sum = 0;
  for (const line of stdout.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 4) continue;
    const token = parts[0]!;
    const p = Number(parts[3]);
    if (token.startsWith('<') || token.startsWith('[') || token.startsWith('++') || !Number.isFinite(p)) continue;
    words.push(token.replace(/\(\d+\)$/, '').toLowerCase());
    sum += Math.min(1, Math.max(0, p));
  }
  return { words, confidence: words.length ? sum / words.length : undefined };
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      const why = e.code === 'ENOENT' ? `${cmd} is not installed` : e.killed ? `${cmd} timed out after ${timeoutMs} ms` : `${cmd} failed: ${String(stderr).trim().split('\n').slice(-2).join(' ') || e.message}`;
      reject(new TranscriptionError(ENGINE, why, { cause: err }));
    });
  });
}

export function createPocketsphinxEngine(o: PocketsphinxOptions = {}): TranscriptionEngine {
  const binary = o.binary ?? 'pocketsphinx_continuous';
  const ffmpeg = o.ffmpeg ?? 'ffmpeg';
  const timeoutMs = o.timeoutMs ?? 120_000;
  return {
    name: ENGINE,
    async transcribe(wavPath: string): Promise<TranscriptionResult> {
      const dir = await mkdtemp(path.join(tmpdir(), 'strowger-stt-'));
      try {
        const wav16 = path.join(dir, 'in16k.wav');
        // `file:` so a path is never read as an option or a protocol; wav only.
        await run(ffmpeg, ['-nostdin', '-loglevel', 'error', '-protocol_whitelist', 'file', '-f', 'wav', '-i', `file:${path.resolve(wavPath)}`,
          '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', '-y', `file:${wav16}`], timeoutMs);
        const out = await run(binary, ['-infile', wav16, '-time', 'yes', '-logfn', '/dev/null', ...(o.extraArgs ?? [])], timeoutMs);
        const { words, confidence } = parsePocketsphinxTimes(out);
        return confidence === undefined ? { text: words.join(' '), engine: ENGINE } : { text: words.join(' '), engine: ENGINE, confidence };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
