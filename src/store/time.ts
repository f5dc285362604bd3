/** All stored timestamps are UTC ISO-8601 with milliseconds, so text order is time order. */
export function isoNow(now: number = Date.now()): string {
  // Years 0000-9999 only (ISO's four digits); anything else, NaN included, as Date says.
  if (!(now >= 0 && now < MAX_4_DIGIT_YEAR)) return new Date(now).toISOString();
  const t = Math.floor(now);
  const minute = Math.floor(t / 60_000);
  const prefix = minutePrefix(minute);
  const ms = t - minute * 60_000;
  const s = Math.floor(ms / 1000);
  const frac = ms - s * 1000;
  return `${prefix}${s < 10 ? '0' : ''}${s}.${frac < 100 ? (frac < 10 ? '00' : '0') : ''}${frac}Z`;
}

const MAX_4_DIGIT_YEAR = Date.UTC(10_000, 0, 1);

/**
 * `YYYY-MM-DDTHH:MM:` of a minute, from the last few formatted. A registration writes three
 * timestamps per REGISTER in two minutes (now, and now + its expiry), and `toISOString` per
 * value was ~1.5 % of a REGISTER's CPU (bench/README.md, "Wave 2 session 16").
 */
function minutePrefix(minute: number): string {
  for (let i = 0; i < PREFIXES; i++) if (cachedMinute[i] === minute) return cachedPrefix[i]!;
  const slot = nextSlot;
  nextSlot = (nextSlot + 1) % PREFIXES;
  cachedMinute[slot] = minute;
  return (cachedPrefix[slot] = new Date(minute * 60_000).toISOString().slice(0, 17));
}

const PREFIXES = 4;
const cachedMinute = new Float64Array(PREFIXES).fill(NaN);
const cachedPrefix: string[] = new Array<string>(PREFIXES).fill('');
let nextSlot = 0;
