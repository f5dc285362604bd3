/**
 * Coalesces the messages posted to one port during a turn of the event loop into a single
 * `postMessage` (an array when there are several). Each post wakes the other thread and costs a
 * structured clone; a call set-up issues a handful of control messages, and at a high call rate
 * many calls' messages fall into the same turn. The flush runs on `setImmediate`, after the
 * I/O callbacks of the turn, so nothing waits longer than that.
 */
export class MessageBatcher<T> {
  private queue: T[] = [];
  private scheduled = false;

  constructor(private readonly post: (message: T | T[]) => void) {}

  send(message: T): void {
    this.queue.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Posts whatever is queued now (also called by the timer). */
  flush(): void {
    this.scheduled = false;
    const q = this.queue;
    if (q.length === 0) return;
    this.queue = [];
    this.post(q.length === 1 ? q[0]! : q);
  }
}

/** Calls `fn` for a message or for each message of a batch. */
export function forEachMessage<T>(data: T | T[], fn: (message: T) => void): void {
  if (Array.isArray(data)) for (const m of data) fn(m);
  else fn(data);
}
