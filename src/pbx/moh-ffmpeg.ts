/**
 * ffprobe and ffmpeg for MOH uploads. Both run with argument arrays (`execFile`, never a
 * shell), a timeout after which they are SIGKILLed, and only on paths the server chose (the
 * temporary upload file), prefixed `file:` so no name is read as an option or a protocol.
 *
 * Uploaded bytes are hostile input to ffmpeg, so its reach is narrowed on every run:
 * - `-protocol_whitelist file`: no network, no `concat:`/`subfile:`/`data:` tricks;
 * - `-format_whitelist`: audio containers only. This keeps out the demuxers that follow
 *   references to other files (HLS playlists, `concat` scripts: the known way to make
 *   ffmpeg read /etc/passwd from an upload) and the `tty` demuxer that would happily
 *   "decode" a text file.
 */
import { execFile } from 'node:child_process';
import { MohToolError } from './moh-errors.ts';
import { MOH_CHANNELS, MOH_SAMPLE_RATE } from './moh-format.ts';

/** Demuxers allowed for uploads (names as ffmpeg lists them; `mov` covers mp4/m4a). */
export const MOH_INPUT_FORMATS = ['wav', 'w64', 'mp3', 'ogg', 'flac', 'aac', 'mov', 'matroska', 'aiff', 'au', 'amr', 'caf', 'asf', 'wv'];

export interface MohTools {
  ffprobe: string;
  ffmpeg: string;
  /** Kill ffprobe after this long (ms). */
  probeTimeoutMs: number;
  /** Kill ffmpeg after this long (ms); 600 s of audio converts in about a second. */
  convertTimeoutMs: number;
}

export const DEFAULT_MOH_TOOLS: MohTools = { ffprobe: 'ffprobe', ffmpeg: 'ffmpeg', probeTimeoutMs: 15_000, convertTimeoutMs: 120_000 };

export interface ToolResult {
  /** Exit code; null when killed. */
  code: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

const SANDBOX_ARGS = ['-protocol_whitelist', 'file', '-format_whitelist', MOH_INPUT_FORMATS.join(',')];

/** Runs a tool; resolves with its outcome, rejects only when it cannot be started. */
export function runTool(cmd: string, args: string[], timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024, windowsHide: true }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string | null }) | null;
      if (e && typeof e.code === 'string') {
        // ENOENT/EACCES: the binary is missing. ERR_CHILD_PROCESS_STDIO_MAXBUFFER: absurd output.
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return resolve({ code: null, timedOut: false, stdout: '', stderr: 'too much output' });
        return reject(new MohToolError(cmd, { cause: err }));
      }
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, timedOut: !!e?.killed, stdout, stderr });
    });
  });
}

/** What ffprobe says about the file (the first audio stream), or why it could not say. */
export type ProbeResult =
  | { ok: true; format: string; audio: ProbedAudio | null; formatDuration: number | null }
  | { ok: false; timedOut: boolean; error: string };

export interface ProbedAudio {
  codec: string;
  sampleRate: number;
  channels: number;
  /** Seconds the stream declares (header, Xing frame count, or size/bitrate), or null. */
  duration: number | null;
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' || typeof v === 'number' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};

/** The last non-empty line of a tool's stderr, without ffmpeg's "[demuxer @ 0x…] " prefix. */
export function lastErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines[lines.length - 1] ?? 'unknown error';
  return last.replace(/^\[[^\]]*\]\s*/, '').replace(/^file:\S*:\s*/, '').slice(0, 200);
}

export async function probeAudio(tools: MohTools, path: string): Promise<ProbeResult> {
  const r = await runTool(tools.ffprobe, [
    '-v', 'error', ...SANDBOX_ARGS, '-print_format', 'json', '-show_format', '-show_streams', `file:${path}`,
  ], tools.probeTimeoutMs);
  if (r.timedOut) return { ok: false, timedOut: true, error: `ffprobe took longer than ${tools.probeTimeoutMs / 1000} s` };
  if (r.code !== 0) return { ok: false, timedOut: false, error: lastErrorLine(r.stderr) };
  let json: { format?: Record<string, unknown>; streams?: Array<Record<string, unknown>> };
  try {
    json = JSON.parse(r.stdout);
  } catch {
    return { ok: false, timedOut: false, error: 'ffprobe printed no JSON' };
  }
  if (!json.format) return { ok: false, timedOut: false, error: lastErrorLine(r.stderr) };
  const s = json.streams?.find((x) => x.codec_type === 'audio');
  const formatDuration = num(json.format.duration);
  return {
    ok: true,
    format: String(json.format.format_name ?? 'unknown'),
    formatDuration,
    audio: s ? {
      codec: String(s.codec_name ?? 'unknown'),
      sampleRate: num(s.sample_rate) ?? 0,
      channels: num(s.channels) ?? 0,
      duration: num(s.duration) ?? formatDuration,
    } : null,
  };
}

/**
 * Decodes the first audio stream of `input` into the internal format (moh-format.ts) at
 * `output`, keeping at most `maxSeconds` (so a file that lies about its length cannot fill
 * the disk). A bit-exact, metadata-free WAV: a plain 44-byte header, same bytes every run.
 */
export async function convertToMohWav(tools: MohTools, input: string, output: string, maxSeconds: number): Promise<ToolResult> {
  return runTool(tools.ffmpeg, [
    '-nostdin', '-hide_banner', '-v', 'error', ...SANDBOX_ARGS,
    '-i', `file:${input}`,
    '-map', '0:a:0', '-vn', '-sn', '-dn', '-t', String(maxSeconds),
    '-ac', String(MOH_CHANNELS), '-ar', String(MOH_SAMPLE_RATE), '-c:a', 'pcm_s16le',
    '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact',
    '-f', 'wav', '-y', `file:${output}`,
  ], tools.convertTimeoutMs);
}
