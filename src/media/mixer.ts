/**
 * Summing mixer of 20 ms frames. Several sources are added in 32-bit and clipped once to the
 * 16-bit range (saturation instead of wrap-around, which would turn loud speech into noise).
 */

/** Adds `frame` into the 32-bit accumulator `acc` (first `n` samples). */
export function accumulate(acc: Int32Array, frame: Int16Array, n: number): void {
  for (let i = 0; i < n; i++) acc[i] += frame[i];
}

/** Writes `acc` clipped to [-32768, 32767] into `out` and clears `acc` for the next frame. */
export function saturate(acc: Int32Array, out: Int16Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = acc[i];
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    acc[i] = 0;
  }
}
