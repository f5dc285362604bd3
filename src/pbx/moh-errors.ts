/**
 * The MOH catalogue: why an uploaded file cannot be music on hold. Each problem has a
 * stable code (the API's `details.reason`) and a message for a person.
 */

export const MOH_PROBLEM_CODES = [
  /** The request carried no file part. */
  'moh_missing_file',
  /** More bytes than STROWGER_MOH_MAX_BYTES. */
  'moh_too_large',
  /** ffprobe recognises no audio container in it (a text file, an image, random bytes). */
  'moh_not_audio',
  /** A media container without an audio stream (e.g. a silent video). */
  'moh_no_audio_stream',
  /** Longer than STROWGER_MOH_MAX_SECONDS (declared or decoded). */
  'moh_too_long',
  /** Truncated or damaged: the decoder fails, decodes nothing, or much less than declared. */
  'moh_corrupt',
] as const;

export type MohProblemCode = (typeof MOH_PROBLEM_CODES)[number];

export interface MohProblem {
  code: MohProblemCode;
  message: string;
}

/** An upload refused; `problems` lists every reason found (the first one is `code`). */
export class MohRejectedError extends Error {
  readonly code: MohProblemCode;
  constructor(readonly problems: MohProblem[]) {
    super(`The file cannot be used as music on hold: ${problems.map((p) => p.message).join('; ')}`);
    this.name = 'MohRejectedError';
    this.code = problems[0]!.code;
  }
}

/** The setting names an uploaded file that does not exist. */
export class MohUnknownFileError extends Error {
  readonly code = 'moh_unknown_file';
  constructor(readonly source: string) {
    super(`No uploaded music-on-hold file has id ${source}`);
    this.name = 'MohUnknownFileError';
  }
}

/** ffmpeg/ffprobe could not be run at all (not installed): the server's fault, not the file's. */
export class MohToolError extends Error {
  readonly code = 'moh_tool_unavailable';
  constructor(tool: string, options?: { cause?: unknown }) {
    super(`${tool} could not be started: install ffmpeg (it provides ffprobe too)`, options);
    this.name = 'MohToolError';
  }
}
