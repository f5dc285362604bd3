/**
 * The internal format of every music-on-hold file: WAV, 16-bit signed little-endian PCM,
 * mono, 16,000 Hz.
 *
 * Why this one:
 * - PCM, not a compressed codec: the player reads 20 ms frames (320 samples, 640 bytes)
 *   straight from the file, so playing hold music to many calls costs no decoding.
 * - 16 kHz is the media graph's wideband rate (G.722 samples at 16 kHz) and an integer
 *   ratio of the others: ÷2 for G.711's 8 kHz, ×3 for Opus's 48 kHz, so resampling is cheap
 *   and exact. More would be wasted: no telephone codec carries sound above ~7 kHz
 *   (G.722's band is 50–7000 Hz; 16 kHz sampling holds up to 8 kHz).
 * - Mono: a call's audio is one channel.
 * - 16-bit: the sample size of the PCM frames every codec encodes from (DESIGN "Media model").
 * A 10-minute file is 19.2 MB (32,000 bytes per second).
 */
export const MOH_SAMPLE_RATE = 16000;
export const MOH_CHANNELS = 1;
export const MOH_BITS_PER_SAMPLE = 16;
export const MOH_BYTES_PER_SECOND = MOH_SAMPLE_RATE * MOH_CHANNELS * (MOH_BITS_PER_SAMPLE / 8);
