/** All stored timestamps are UTC ISO-8601 with milliseconds, so text order is time order. */
export function isoNow(now: number = Date.now()): string {
  return new Date(now).toISOString();
}
