/**
 * The queue overload control caps (issue 12): INVITEs taken that have had no answer beyond
 * `100 Trying` yet. They wait for the system (routing, the far end's signalling), not for a
 * person: a phone's 180 Ringing ends the wait, so ringing calls never fill the queue.
 */
export class InviteWaitQueue {
  /** INVITEs waiting now. */
  waiting = 0;
  /** INVITEs that have left the queue since start (a counter: its rate is the service rate). */
  progressed = 0;
  /** Lowest `waiting` since {@link standingProbe} last looked (a queue's low-water mark). */
  lowest = 0;

  enter(): void {
    this.waiting++;
  }

  leave(): void {
    this.waiting--;
    this.progressed++;
    if (this.waiting < this.lowest) this.lowest = this.waiting;
  }
}

/** INVITEs that left `queue` since the previous call (for {@link LoadSample.progressed}). */
export function progressProbe(queue: InviteWaitQueue): () => number {
  let seen = queue.progressed;
  return () => {
    const n = queue.progressed - seen;
    seen = queue.progressed;
    return n;
  };
}

/**
 * The lowest depth of `queue` since the previous call (for {@link LoadSample.standing}): a
 * burst that drains within the sample leaves it low; only a standing queue keeps it high.
 */
export function standingProbe(queue: InviteWaitQueue): () => number {
  queue.lowest = queue.waiting;
  return () => {
    const n = queue.lowest;
    queue.lowest = queue.waiting;
    return n;
  };
}
