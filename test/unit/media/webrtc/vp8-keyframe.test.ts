/** RFC 7741 §4.2/§4.3: where the key-frame flag of a VP8 payload is. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVp8KeyframeStart } from '../../../../src/media/webrtc/vp8-keyframe.ts';

test('VP8 key-frame start, per RFC 7741 descriptor layouts', () => {
  const cases: [string, number[], boolean][] = [
    ['S=1 PID=0, P=0', [0x10, 0x00], true],
    ['S=1 PID=0, P=1 (delta)', [0x10, 0x01], false],
    ['S=0 (not the first packet of the frame)', [0x00, 0x00], false],
    ['PID=1 (second partition)', [0x11, 0x00], false],
    ['X, I with 15-bit PictureID (M), L, T', [0x90, 0xe0, 0x80, 0x01, 0x05, 0x40, 0x9c], true],
    ['X, I with 7-bit PictureID', [0x90, 0x80, 0x05, 0x9d], false],
    ['X, K only', [0x90, 0x10, 0x00, 0x10], true],
    ['truncated after X', [0x90], false],
    ['empty', [], false],
  ];
  for (const [name, bytes, key] of cases) assert.equal(isVp8KeyframeStart(Uint8Array.from(bytes)), key, name);
});
