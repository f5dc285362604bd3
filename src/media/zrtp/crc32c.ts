/**
 * CRC-32C (Castagnoli, RFC 3309 / RFC 3720 B.4) as ZRTP frames its packets (RFC 6189 §5): the
 * reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF. Check value of
 * "123456789": 0xE3069283. On the wire the value goes least significant byte first, as SCTP
 * puts it (RFC 3309 §2 transmits the reflected register as is): libbzrtp (linphone) does so and
 * drops packets whose CRC is big-endian.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
