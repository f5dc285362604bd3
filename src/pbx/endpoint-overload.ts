/**
 * Overload control fed by the thread an endpoint runs on: event-loop utilization (capped by
 * the thread's CPU share), loop lag, absorbed retransmissions and the INVITE wait queue. The
 * main thread and every registrar shard each watch their own loop.
 */
import type { SipEndpoint } from '../sip/endpoint.ts';
import type { OverloadControl } from '../sip/overload-control.ts';
import { eventLoopProbe, retransmissionProbe, startOverloadSampler } from '../sip/overload-probe.ts';
import { progressProbe, standingProbe } from '../sip/invite-wait-queue.ts';
import { threadCpuMs } from '../media/thread-cpu.ts';

/** Starts sampling; the function returned stops it. */
export function startEndpointOverload(endpoint: SipEndpoint, overload: OverloadControl): () => void {
  // Called on the endpoint's thread: the CPU time it reads is that thread's.
  const loop = eventLoopProbe(10, threadCpuMs);
  const retransmitted = retransmissionProbe(endpoint.transactions.counters, endpoint.counters);
  const progressed = progressProbe(endpoint.inviteWait);
  const standing = standingProbe(endpoint.inviteWait);
  return startOverloadSampler(overload, { probe: () => ({ ...loop.probe(), retransmitted: retransmitted(), progressed: progressed(), standing: standing() }), close: loop.close });
}
