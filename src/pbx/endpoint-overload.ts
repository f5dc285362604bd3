/**
 * Overload control fed by the thread an endpoint runs on: event-loop utilization (capped by
 * the thread's CPU share), loop lag, absorbed retransmissions, the INVITE wait queue and, on
 * the thread that reads the UDP sockets, the time datagrams wait in them. The main thread and
 * every registrar shard each watch their own loop.
 */
import type { SipEndpoint } from '../sip/endpoint.ts';
import type { OverloadControl } from '../sip/overload-control.ts';
import { eventLoopProbe, retransmissionProbe, startOverloadSampler } from '../sip/overload-probe.ts';
import { progressProbe, standingProbe } from '../sip/invite-wait-queue.ts';
import type { QueueDelayProbe } from '../sip/queue-delay-probe.ts';
import { UdpTransport } from '../sip/transport-udp.ts';
import type { SipTransport } from '../sip/transport-types.ts';
import { threadCpuMs } from '../media/thread-cpu.ts';

/**
 * Starts sampling; the function returned stops it. `reading`: the transports this thread
 * reads (the main thread's; a registrar shard only sends on its UDP sockets): the queue delay
 * of the UDP ones is measured, once their probes are open.
 */
export function startEndpointOverload(endpoint: SipEndpoint, overload: OverloadControl, reading: readonly SipTransport[] = []): () => void {
  // Called on the endpoint's thread: the CPU time it reads is that thread's.
  const probes: QueueDelayProbe[] = [];
  // The pings ride on the lag ticker: every 10 ms while the loop is busy, every 100 ms when quiet.
  const loop = eventLoopProbe(10, threadCpuMs, { onTick: () => { for (const p of probes) p.send(); } });
  const retransmitted = retransmissionProbe(endpoint.transactions.counters, endpoint.counters);
  const progressed = progressProbe(endpoint.inviteWait);
  const standing = standingProbe(endpoint.inviteWait);
  // A probe that opens after the sampler stopped is never pinged or read: the ticker is closed.
  for (const t of reading) {
    if (t instanceof UdpTransport) void t.queueDelayProbe().then((probe) => { if (probe !== null) probes.push(probe); });
  }
  const queueDelayMs = (): number | undefined => {
    if (probes.length === 0) return undefined;
    let worst = 0;
    for (const p of probes) worst = Math.max(worst, p.sample());
    return worst;
  };
  return startOverloadSampler(overload, {
    probe: () => ({ ...loop.probe(), retransmitted: retransmitted(), progressed: progressed(), standing: standing(), queueDelayMs: queueDelayMs() }),
    close: loop.close,
  });
}
