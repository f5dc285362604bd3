/**
 * libopus compiled to WebAssembly, called directly. The module is the build shipped in the
 * `@evan/opus` npm package (`wasm/simd.wasm`, or `wasm/opus.wasm` where SIMD is missing); it
 * exports libopus' own C API (`opus_encode`, `opus_decode`, `*_ctl_set`, `malloc`). We bind
 * it ourselves rather than through the package's classes because those allocate a result per
 * call and never pass `decode_fec` or a PLC frame size, which RFC 7587 FEC and concealment need.
 *
 * One instance per thread (each media worker loads its own); every encoder and decoder lives in
 * its linear memory with its own PCM and packet scratch, allocated once at creation.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The slice of the WebAssembly JS API we use (the project's `lib` has no DOM/WebAssembly types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The libopus entry points the build exports (pointers are byte offsets in `memory`). */
export interface OpusWasmExports {
  memory: WasmMemory;
  _initialize?: () => void;
  malloc(size: number): number;
  free(ptr: number): void;
  opus_strerror(code: number): number;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(st: number, fs: number, channels: number, application: number): number;
  opus_encode(st: number, pcm: number, frameSize: number, data: number, maxBytes: number): number;
  opus_encoder_ctl_set(st: number, request: number, value: number): number;
  opus_encoder_ctl_get(st: number, request: number): number;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(st: number, fs: number, channels: number): number;
  opus_decode(st: number, data: number, len: number, pcm: number, frameSize: number, decodeFec: number): number;
  opus_decoder_ctl_set(st: number, request: number, value: number): number;
  opus_decoder_ctl_get(st: number, request: number): number;
}

/** The loaded module plus views of its memory that follow `memory.grow`. */
export interface OpusWasm {
  readonly exports: OpusWasmExports;
  /** Current byte view (replaced when the memory grows). */
  u8: Uint8Array;
  /** Current 16-bit view (replaced when the memory grows). */
  i16: Int16Array;
}

/** Smallest module using a v128 instruction: validates only where WebAssembly SIMD exists. */
const SIMD_PROBE = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11);

let loaded: OpusWasm | null = null;

/** Loads (once per thread) and returns the libopus module. Synchronous: ~10 ms the first time. */
export function opusWasm(): OpusWasm {
  if (loaded !== null) return loaded;
  const require = createRequire(import.meta.url);
  const file = require.resolve(`@evan/opus/wasm/${WebAssembly.validate(SIMD_PROBE) ? 'simd' : 'opus'}.wasm`);
  const module = new WebAssembly.Module(readFileSync(file));
  let state: OpusWasm | null = null;
  const refresh = (): void => {
    if (state === null) return;
    state.u8 = new Uint8Array(state.exports.memory.buffer);
    state.i16 = new Int16Array(state.exports.memory.buffer);
  };
  const noop = (): number => 0;
  const instance = new WebAssembly.Instance(module, {
    wasi_snapshot_preview1: { fd_seek: noop, fd_write: noop, fd_close: noop, proc_exit: noop },
    env: { emscripten_notify_memory_growth: refresh },
  });
  const exports = instance.exports as unknown as OpusWasmExports;
  exports._initialize?.();
  state = { exports, u8: new Uint8Array(0), i16: new Int16Array(0) };
  refresh();
  loaded = state;
  return state;
}

/** libopus' message for a negative return code. */
export function opusErrorText(wasm: OpusWasm, code: number): string {
  const ptr = wasm.exports.opus_strerror(code);
  const u8 = wasm.u8;
  let s = '';
  for (let i = ptr; i < u8.length && u8[i] !== 0; i++) s += String.fromCharCode(u8[i]!);
  return s;
}
