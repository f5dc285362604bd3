/**
 * G.722 (ITU-T G.722, 11/1988 and 09/2012), 64 kbit/s mode: 16 kHz PCM is split by a 24-tap QMF
 * into two 8 kHz sub-bands, coded by ADPCM with 6 bits (low band) and 2 bits (high band); one
 * octet per pair of input samples, high-band bits first (`ihigh << 6 | ilow`, §1.4.4). RTP per
 * RFC 3551 §4.5.2: static PT 9, clock rate 8000 "for historic reasons" although sampling is 16 kHz,
 * so a 20 ms frame is 320 samples, 160 octets and 160 timestamp units.
 *
 * Block names in comments (SUBTRA, QUANTL, INVQAL, LOGSCL, SCALEL, UPPOL1/2, UPZERO, FILTEP,
 * FILTEZ, ...) are the ITU-T G.722 §3/§4 block diagrams; arithmetic is the integer arithmetic of the
 * recommendation, on 16-bit PCM (the QMF shifts absorb the 14-bit scaling, as spandsp and ffmpeg
 * do), so output matches ffmpeg's `adpcm_g722` bit for bit (tested).
 */
import { FadeConcealer } from './fade-concealer.ts';
import type { AudioCodec, AudioDecoder, AudioEncoder } from './types.ts';

/** QMF coefficients h0..h11 (Table 11/G.722); the 24-tap filter is symmetric. */
const QMF = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];
/** QUANTL decision levels (Table 14/G.722), scaled by the step size. */
const Q6 = [0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0];
/** QUANTL output codes for negative / positive differences. */
const ILN = [0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0];
const ILP = [0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0];
/** LOGSCL log-scale factor multipliers (Table 15) and the 4-bit → 3-bit mapping RIL → IL4. */
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
/** SCALEL/SCALEH antilog table (Table 16). */
const ILB = [2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008];
/** INVQAL 4-bit inverse quantiser (Table 17) — the predictor sees only the top 4 of 6 bits. */
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0];
/** INVQBL 6-bit inverse quantiser (Table 19): what the decoder outputs in 64 kbit/s mode. */
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
  4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/** High band: QUANTH codes, INVQAH levels, LOGSCH multipliers (Tables 20–22). */
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];
const QM2 = [-7408, -1616, 7408, 1616];
const WH = [0, -214, 798];
const RH2 = [2, 1, 2, 1];

const sat = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

/** State of one sub-band's adaptive predictor and scale factor (§3.6, blocks 3 and 4). */
class Band {
  /** Signal estimate (PREDIC), zero-section estimate (FILTEZ), pole-section estimate (FILTEP). */
  s = 0;
  sz = 0;
  sp = 0;
  /** Log scale factor (LOGSCL/LOGSCH) and quantiser scale factor (SCALEL/SCALEH). */
  nb = 0;
  det: number;
  /** Reconstructed signal r, partial reconstruction p, pole coefficients a (index = delay). */
  readonly r = new Int32Array(3);
  readonly p = new Int32Array(3);
  readonly a = new Int32Array(3);
  /** Quantised differences d and zero coefficients b (index = delay, 0 = now). */
  readonly d = new Int32Array(7);
  readonly b = new Int32Array(7);

  constructor(det: number) {
    this.det = det;
  }

  /** Block 4: reconstruct, adapt the 2-pole/6-zero predictor, predict the next sample. */
  update(dq: number): void {
    const { r, p, a, d, b } = this;
    const r0 = sat(this.s + dq); // RECONS
    const p0 = sat(this.sz + dq); // PARREC
    const sg0 = p0 >> 15;
    const sg1 = p[1]! >> 15;
    const sg2 = p[2]! >> 15;
    // UPPOL2
    const w1 = sat(a[1]! << 2);
    let w2 = sg0 === sg1 ? -w1 : w1;
    if (w2 > 32767) w2 = 32767;
    let ap2 = (w2 >> 7) + (sg0 === sg2 ? 128 : -128) + ((a[2]! * 32512) >> 15);
    ap2 = ap2 > 12288 ? 12288 : ap2 < -12288 ? -12288 : ap2;
    // UPPOL1
    let ap1 = sat((sg0 === sg1 ? 192 : -192) + ((a[1]! * 32640) >> 15));
    const lim = sat(15360 - ap2);
    ap1 = ap1 > lim ? lim : ap1 < -lim ? -lim : ap1;
    // UPZERO: sign-sign adaptation of the zeros, leakage 1 - 2^-8
    const g = dq === 0 ? 0 : 128;
    const sgd = dq >> 15;
    for (let i = 6; i > 0; i--) {
      b[i] = sat(((d[i]! >> 15) === sgd ? g : -g) + ((b[i]! * 32640) >> 15));
    }
    // DELAYA (d[1] becomes this difference; d[0] is scratch)
    d[0] = dq;
    for (let i = 6; i > 0; i--) d[i] = d[i - 1]!;
    r[2] = r[1]!;
    r[1] = r0;
    p[2] = p[1]!;
    p[1] = p0;
    a[2] = ap2;
    a[1] = ap1;
    // FILTEP
    const sp = sat(((a[1]! * sat(r[1]! + r[1]!)) >> 15) + ((a[2]! * sat(r[2]! + r[2]!)) >> 15));
    // FILTEZ
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (b[i]! * sat(d[i]! + d[i]!)) >> 15;
    this.sz = sat(sz);
    this.sp = sp;
    this.s = sat(sp + this.sz); // PREDIC
  }

  /** LOGSCL + SCALEL (low band: `limit` 18432, `shift` 8) or LOGSCH + SCALEH (22528, 10). */
  scale(w: number, limit: number, shift: number): void {
    let nb = ((this.nb * 127) >> 7) + w;
    nb = nb < 0 ? 0 : nb > limit ? limit : nb;
    this.nb = nb;
    const i = (nb >> 6) & 31;
    const s = shift - (nb >> 11);
    this.det = (s < 0 ? ILB[i]! << -s : ILB[i]! >> s) << 2;
  }
}

/** Stateful G.722 encoder: 16 kHz PCM in, one octet per two samples out. */
export class G722Encoder implements AudioEncoder {
  readonly sampleRate = 16000;
  private readonly low = new Band(32);
  private readonly high = new Band(8);
  /** Transmit QMF delay line, oldest first. */
  private readonly x = new Int32Array(24);

  /** Encodes `pcm` (an even number of samples; 320 per 20 ms). @returns octets written. */
  encode(pcm: Int16Array, dst: Buffer): number {
    const n = Math.min(pcm.length >> 1, dst.length);
    const { low, high, x } = this;
    for (let k = 0; k < n; k++) {
      // Transmit QMF (§2.4): shift in two samples, keep one output per band.
      x.copyWithin(0, 2);
      x[22] = pcm[2 * k]!;
      x[23] = pcm[2 * k + 1]!;
      let sumOdd = 0;
      let sumEven = 0;
      for (let i = 0; i < 12; i++) {
        sumOdd += x[2 * i]! * QMF[i]!;
        sumEven += x[2 * i + 1]! * QMF[11 - i]!;
      }
      const xlow = (sumEven + sumOdd) >> 14;
      const xhigh = (sumEven - sumOdd) >> 14;

      // Low band. SUBTRA, QUANTL (6 bits), INVQAL (4 bits), LOGSCL/SCALEL, then block 4.
      const el = sat(xlow - low.s);
      const wl = el >= 0 ? el : -(el + 1);
      let i = 1;
      for (; i < 30; i++) if (wl < (Q6[i]! * low.det) >> 12) break;
      const ilow = el < 0 ? ILN[i]! : ILP[i]!;
      const ril = ilow >> 2;
      const dlow = (low.det * QM4[ril]!) >> 15;
      low.scale(WL[RL42[ril]!]!, 18432, 8);
      low.update(dlow);

      // High band. SUBTRA, QUANTH (2 bits), INVQAH, LOGSCH/SCALEH, then block 4.
      const eh = sat(xhigh - high.s);
      const wh = eh >= 0 ? eh : -(eh + 1);
      const mih = wh >= (564 * high.det) >> 12 ? 2 : 1;
      const ihigh = eh < 0 ? IHN[mih]! : IHP[mih]!;
      const dhigh = (high.det * QM2[ihigh]!) >> 15;
      high.scale(WH[RH2[ihigh]!]!, 22528, 10);
      high.update(dhigh);

      dst[k] = (ihigh << 6) | ilow;
    }
    return n;
  }

  close(): void {}
}

/** Stateful G.722 decoder: one octet in, two 16 kHz samples out. */
export class G722Decoder implements AudioDecoder {
  readonly sampleRate = 16000;
  private readonly low = new Band(32);
  private readonly high = new Band(8);
  /** Receive QMF delay line, oldest first. */
  private readonly x = new Int32Array(24);
  private readonly plc = new FadeConcealer(16000);

  decode(payload: Uint8Array, dst: Int16Array): number {
    const n = Math.min(payload.length, dst.length >> 1);
    const { low, high, x } = this;
    for (let k = 0; k < n; k++) {
      const code = payload[k]!;
      const ilow = code & 0x3f;
      const ihigh = code >> 6;
      // Low band: INVQBL (6 bits) → RECONS → LIMIT; the predictor uses INVQAL (4 bits).
      let rlow = low.s + ((low.det * QM6[ilow]!) >> 15);
      rlow = rlow > 16383 ? 16383 : rlow < -16384 ? -16384 : rlow;
      const ril = ilow >> 2;
      const dlow = (low.det * QM4[ril]!) >> 15;
      low.scale(WL[RL42[ril]!]!, 18432, 8);
      low.update(dlow);
      // High band: INVQAH → RECONS → LIMIT.
      const dhigh = (high.det * QM2[ihigh]!) >> 15;
      let rhigh = dhigh + high.s;
      rhigh = rhigh > 16383 ? 16383 : rhigh < -16384 ? -16384 : rhigh;
      high.scale(WH[RH2[ihigh]!]!, 22528, 10);
      high.update(dhigh);
      // Receive QMF (§4.4).
      x.copyWithin(0, 2);
      x[22] = rlow + rhigh;
      x[23] = rlow - rhigh;
      let out1 = 0;
      let out2 = 0;
      for (let i = 0; i < 12; i++) {
        out2 += x[2 * i]! * QMF[i]!;
        out1 += x[2 * i + 1]! * QMF[11 - i]!;
      }
      dst[2 * k] = sat(out1 >> 11);
      dst[2 * k + 1] = sat(out2 >> 11);
    }
    this.plc.remember(dst, 2 * n);
    return 2 * n;
  }

  /** Faded repeat of the last frame. The ADPCM state is left as is (G.722 Appendix III does better). */
  conceal(dst: Int16Array, samples: number): number {
    return this.plc.conceal(dst, samples);
  }

  close(): void {}
}

/** G722/8000 (16 kHz audio), static payload type 9 (RFC 3551 §4.5.2, §6). */
export const G722: AudioCodec = {
  info: { name: 'G722', clockRate: 8000, channels: 1, staticPt: 9, sampleRate: 16000 },
  createEncoder: () => new G722Encoder(),
  createDecoder: () => new G722Decoder(),
};
