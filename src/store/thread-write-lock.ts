/**
 * One SQLite writer at a time across the threads of this process (the main thread and the
 * registrar shards each hold a connection to the same file). SQLite serializes writers itself,
 * but a writer that finds the lock taken sleeps in its busy handler — 1, 2, 5, 10 … ms steps —
 * and, better-sqlite3 being synchronous, its whole event loop sleeps with it: measured as
 * retransmitted REGISTERs once two shards' group commits met. Here a waiter blocks on a shared
 * word (`Atomics.wait`) and is woken the moment the holder is done, a few microseconds.
 *
 * Held only around synchronous transactions (`SqliteSync`), never across an `await`, so it
 * cannot deadlock; a thread that dies holding it (it cannot: the holder is inside a synchronous
 * call) would be waited for `maxWaitMs`, then ignored.
 */
const FREE = 0;
const HELD = 1;

export class ThreadWriteLock {
  private readonly word: Int32Array;

  /** `shared`: the lock of another thread's store (`buffer`), or a new one. */
  constructor(shared?: SharedArrayBuffer, private readonly maxWaitMs = 5_000) {
    this.word = new Int32Array(shared ?? new SharedArrayBuffer(4));
  }

  /** What another thread passes to its constructor to share this lock. */
  get buffer(): SharedArrayBuffer {
    return this.word.buffer as SharedArrayBuffer;
  }

  run<T>(fn: () => T): T {
    const deadline = Date.now() + this.maxWaitMs;
    while (Atomics.compareExchange(this.word, 0, FREE, HELD) !== FREE) {
      if (Date.now() > deadline) return fn(); // SQLite's own locking still holds
      Atomics.wait(this.word, 0, HELD, 50);
    }
    try {
      return fn();
    } finally {
      Atomics.store(this.word, 0, FREE);
      Atomics.notify(this.word, 0, 1);
    }
  }
}
