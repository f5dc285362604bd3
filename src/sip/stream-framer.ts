/**
 * Splits a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3).
 *
 *   [CRLF...]  start-line CRLF *(header CRLF) CRLF  body(Content-Length bytes)
 *   ^ ignored, §7.5;      ^ header section ends at the first CRLFCRLF
 *   "\r\n\r\n" between messages is an RFC 5626 §3.5.1 keep-alive ping.
 *
 * Cost is linear in the bytes pushed: each byte is scanned once for CRLFCRLF
 * (native `indexOf`, plus a ≤3-byte check where a chunk boundary splits the
 * terminator) and the header section once more for Content-Length. A message
 * that lies wholly inside one chunk is emitted as a zero-copy `subarray` of
 * that chunk; only a message split across chunks is assembled in a per-
 * connection buffer, and that buffer never holds more than
 * `maxHeaderBytes + maxBodyBytes`: a peer sending megabytes without a blank
 * line is cut off as soon as the header cap is exceeded, before buffering.
 *
 * @example
 * ```ts
 * const framer = new StreamFramer({ onMessage: (m) => handle(m), onPing: () => socket.write('\r\n') });
 * socket.on('data', (chunk) => { const err = framer.push(chunk); if (err) socket.destroy(); });
 * ```
 */

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
/** "content-length" in lower case; `byte | 0x20` lower-cases letters and keeps '-'. */
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
/** Larger assembly buffers are released after use so idle flows stay small. */
const KEEP_BUFFER_BYTES = 16 * 1024;
/** Content-Length values longer than this are rejected before they lose precision. */
const MAX_LENGTH_DIGITS = 12;

const BETWEEN = 0;
const HEADER = 1;
const BODY = 2;
const STOPPED = 3;

/** Why a stream was rejected; the connection must be closed (RFC 3261 §18.3). */
export type FramerError =
  | 'header-too-large'
  | 'body-too-large'
  | 'missing-content-length'
  | 'bad-content-length';

export interface StreamFramerSink {
  /**
   * One complete SIP message (header section and body). The buffer may share
   * memory with the pushed chunk; it is never reused by the framer.
   */
  onMessage(message: Buffer): void;
  /** A CRLFCRLF ping arrived; answer with a single CRLF pong (RFC 5626 §3.5.1). */
  onPing(): void;
}

export interface StreamFramerOptions {
  /** Cap on a header section including the start line and CRLFCRLF. Default 65,536. */
  readonly maxHeaderBytes?: number;
  /** Largest Content-Length accepted. Default 1,048,576. */
  readonly maxBodyBytes?: number;
}

export class StreamFramer {
  private readonly sink: StreamFramerSink;
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;
  private phase: number = BETWEEN;
  /** Bytes of the current message received in earlier chunks. */
  private pending: Buffer = Buffer.alloc(0);
  private pendingLen = 0;
  /** Bytes of "\r\n\r\n" matched between messages (keep-alive detection). */
  private pingMatch = 0;
  /** Body bytes still missing in the BODY phase. */
  private bodyNeeded = 0;
  private failure: FramerError | null = null;
  /** Largest number of bytes ever held in the assembly buffer (for tests and metrics). */
  highWaterBytes = 0;

  constructor(sink: StreamFramerSink, options: StreamFramerOptions = {}) {
    this.sink = sink;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 65_536;
    this.maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  }

  /** Bytes of an incomplete message currently buffered. */
  get bufferedBytes(): number {
    return this.pendingLen;
  }

  /** True after {@link stop} or an error (sink callbacks may stop the framer mid-chunk). */
  get stopped(): boolean {
    return this.phase === STOPPED;
  }

  /** The error that stopped the framer, if any. */
  get error(): FramerError | null {
    return this.failure;
  }

  /**
   * Stops the framer: later pushes are ignored. Call it from a sink callback
   * that closes the connection so the rest of the chunk is not parsed.
   */
  stop(): void {
    this.phase = STOPPED;
    this.release();
  }

  /**
   * Consumes one chunk; the caller must not modify it afterwards. Returns
   * null, or the error that makes the stream unusable (close the connection).
   */
  push(chunk: Buffer): FramerError | null {
    const n = chunk.length;
    let off = 0;
    // The current message is pending[0, pendingLen) followed by chunk[start, off).
    let start = 0;
    for (;;) {
      switch (this.phase) {
        case BETWEEN: {
          off = this.skipKeepAlives(chunk, off);
          if (this.stopped) return this.failure;
          if (off === n) return null;
          this.pingMatch = 0;
          this.phase = HEADER;
          start = off;
          break;
        }
        case HEADER: {
          let end = this.pendingLen > 0 ? this.straddledHeaderEnd(chunk) : -1;
          if (end === -1) {
            const at = chunk.indexOf(HEADER_END, off);
            if (at !== -1) end = at + 4;
          }
          if (end === -1) {
            if (this.pendingLen + n - start > this.maxHeaderBytes) return this.fail('header-too-large');
            this.append(chunk, start, n);
            return null;
          }
          if (this.pendingLen + end - start > this.maxHeaderBytes) return this.fail('header-too-large');
          let length: number;
          if (this.pendingLen === 0) {
            length = readContentLength(chunk, start, end);
          } else {
            this.append(chunk, start, end);
            start = end;
            length = readContentLength(this.pending, 0, this.pendingLen);
          }
          if (length === MISSING) return this.fail('missing-content-length');
          if (length === INVALID) return this.fail('bad-content-length');
          if (length > this.maxBodyBytes) return this.fail('body-too-large');
          this.bodyNeeded = length;
          off = end;
          this.phase = BODY;
          break;
        }
        case BODY: {
          if (n - off < this.bodyNeeded) {
            this.bodyNeeded -= n - off;
            this.append(chunk, start, n);
            return null;
          }
          const end = off + this.bodyNeeded;
          let message: Buffer;
          if (this.pendingLen === 0) {
            message = chunk.subarray(start, end);
          } else {
            this.append(chunk, start, end);
            // Copy out: the assembly buffer is reused for the next message.
            message = Buffer.from(this.pending.subarray(0, this.pendingLen));
            this.release();
          }
          off = end;
          this.bodyNeeded = 0;
          this.phase = BETWEEN;
          this.sink.onMessage(message);
          if (this.stopped) return this.failure;
          break;
        }
        default:
          return this.failure;
      }
    }
  }

  /** Skips CR/LF between messages, reporting each CRLFCRLF as a ping. Returns the new offset. */
  private skipKeepAlives(chunk: Buffer, from: number): number {
    let off = from;
    const n = chunk.length;
    while (off < n) {
      const b = chunk[off];
      if (b === CR) {
        this.pingMatch = this.pingMatch === 2 ? 3 : 1;
      } else if (b === LF) {
        if (this.pingMatch === 3) {
          this.pingMatch = 0;
          this.sink.onPing();
          if (this.stopped) return off + 1;
        } else {
          this.pingMatch = this.pingMatch === 1 ? 2 : 0;
        }
      } else {
        break;
      }
      off++;
    }
    return off;
  }

  /**
   * The CRLFCRLF may start in the buffered bytes and end in this chunk: checks
   * the ≤3 buffered tail bytes against the chunk head. Returns the offset in
   * `chunk` just past the terminator, or -1.
   */
  private straddledHeaderEnd(chunk: Buffer): number {
    const p = this.pending;
    const len = this.pendingLen;
    for (let k = 3; k >= 1; k--) {
      const need = 4 - k;
      if (len < k || chunk.length < need) continue;
      let ok = true;
      for (let i = 0; i < k && ok; i++) ok = p[len - k + i] === HEADER_END[i];
      for (let i = 0; i < need && ok; i++) ok = chunk[i] === HEADER_END[k + i];
      if (ok) return need;
    }
    return -1;
  }

  private append(chunk: Buffer, from: number, to: number): void {
    const size = to - from;
    if (size <= 0) return;
    const needed = this.pendingLen + size;
    if (needed > this.pending.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.pending.length * 2, 1024));
      this.pending.copy(grown, 0, 0, this.pendingLen);
      this.pending = grown;
    }
    chunk.copy(this.pending, this.pendingLen, from, to);
    this.pendingLen = needed;
    if (needed > this.highWaterBytes) this.highWaterBytes = needed;
  }

  private release(): void {
    this.pendingLen = 0;
    if (this.pending.length > KEEP_BUFFER_BYTES) this.pending = Buffer.alloc(0);
  }

  private fail(error: FramerError): FramerError {
    this.failure = error;
    this.stop();
    return error;
  }
}

const MISSING = -1;
const INVALID = -2;

/**
 * Content-Length (or compact `l`, RFC 3261 §7.3.3; names are case-insensitive)
 * of the header section buf[start, end). Returns the length, MISSING, or
 * INVALID (not a number, or two different values).
 */
export function readContentLength(buf: Buffer, start: number, end: number): number {
  let result = MISSING;
  // Skip the start line: header fields begin after its LF.
  let line = buf.indexOf(LF, start);
  while (line !== -1 && line + 1 < end) {
    const p = line + 1;
    line = buf.indexOf(LF, p);
    if (line === -1 || line >= end) line = end - 1;
    const first = buf[p] | 0x20;
    let q: number;
    if (first === 0x6c /* l */) {
      q = p + 1;
    } else if (first === 0x63 /* c */ && matchesName(buf, p, line)) {
      q = p + CONTENT_LENGTH.length;
    } else {
      continue;
    }
    while (q < line && (buf[q] === SP || buf[q] === HTAB)) q++;
    if (buf[q] !== COLON) continue; // another header that starts with "l" or "c"
    const value = parseLengthValue(buf, q + 1, end);
    if (value === INVALID || (result >= 0 && value !== result)) return INVALID;
    result = value;
  }
  return result;
}

function matchesName(buf: Buffer, p: number, lineEnd: number): boolean {
  if (lineEnd - p < CONTENT_LENGTH.length) return false;
  for (let i = 1; i < CONTENT_LENGTH.length; i++) {
    if ((buf[p + i] | 0x20) !== CONTENT_LENGTH[i]) return false;
  }
  return true;
}

/** Digits after the colon; LWS (including folded lines, RFC 3261 §7.3.1) may surround them. */
function parseLengthValue(buf: Buffer, from: number, end: number): number {
  let q = skipLws(buf, from, end);
  let value = 0;
  let digits = 0;
  while (q < end && buf[q] >= 0x30 && buf[q] <= 0x39) {
    value = value * 10 + (buf[q] - 0x30);
    digits++;
    q++;
  }
  if (digits === 0 || digits > MAX_LENGTH_DIGITS) return INVALID;
  q = skipLws(buf, q, end);
  return buf[q] === CR ? value : INVALID;
}

function skipLws(buf: Buffer, from: number, end: number): number {
  let q = from;
  for (;;) {
    while (q < end && (buf[q] === SP || buf[q] === HTAB)) q++;
    // A CRLF followed by whitespace folds the value onto the next line.
    if (buf[q] === CR && buf[q + 1] === LF && (buf[q + 2] === SP || buf[q + 2] === HTAB) && q + 2 < end) {
      q += 2;
      continue;
    }
    return q;
  }
}
