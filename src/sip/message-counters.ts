/**
 * Messages counted by method (requests) and status code (responses), each way, for metrics.
 * Plain maps bumped on the hot path (one lookup and one store per message); readers copy.
 * Methods outside RFC 3261 and its extensions count as `other`, so a peer sending invented
 * methods cannot grow the label set.
 */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);

export class SipMessageCounters {
  readonly requestsIn = new Map<string, number>();
  readonly requestsOut = new Map<string, number>();
  readonly responsesIn = new Map<number, number>();
  readonly responsesOut = new Map<number, number>();

  requestIn(method: string): void {
    bump(this.requestsIn, KNOWN_METHODS.has(method) ? method : 'other');
  }

  requestOut(method: string): void {
    bump(this.requestsOut, KNOWN_METHODS.has(method) ? method : 'other');
  }

  responseIn(status: number): void {
    bump(this.responsesIn, status);
  }

  responseOut(status: number): void {
    bump(this.responsesOut, status);
  }
}

function bump<K>(m: Map<K, number>, key: K): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}
