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

  enter(): void {
    this.waiting++;
  }

  leave(): void {
    this.waiting--;
    this.progressed++;
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
