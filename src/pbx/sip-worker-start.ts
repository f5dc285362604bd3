/**
 * What every SIP worker thread (registrar shard, call shard) sets up the same way: its logger,
 * database connection and adopted UDP sockets, an endpoint speaking as the main thread's does
 * (Server header, option tags, scanner filter, overload control) over a `workerLink`, and the
 * counters every worker reports (`SipWorkerStats`).
 */
import pino, { type Logger } from 'pino';
import { openStore, type Store } from '../store/database.ts';
import { SipEndpoint, type EndpointOptions, type EndpointTransports } from '../sip/endpoint.ts';
import { OverloadControl } from '../sip/overload-control.ts';
import type { SipConfig } from '../config.ts';
import type { UdpTransport } from '../sip/transport-udp.ts';
import { SipGuard } from './sip-guard.ts';
import { startEndpointOverload } from './endpoint-overload.ts';
import { adoptUdp } from './shard-link.ts';
import type { SipWorkerConfig, SipWorkerStats } from './sip-worker-protocol.ts';

export interface SipWorkerBase {
  logger: Logger;
  /** The `sip` component's logger. */
  log: Logger;
  store: Store;
  secret: Buffer;
  udp: UdpTransport[];
}

/** Logger (`<kind>: <index>` on every line), database connection, secret and adopted sockets of a worker. */
export function openSipWorker(cfg: SipWorkerConfig, kind: 'registrar_shard' | 'call_shard'): SipWorkerBase {
  const logger = pino({ level: cfg.logLevel, base: { service: 'strowger', [kind]: cfg.index } });
  const log = logger.child({ component: 'sip' });
  const store = openStore(cfg.databaseUrl, { schema: cfg.dbSchema, poolSize: 2, writeLock: cfg.writeLock, walCheckpoint: 'other-thread' });
  return { logger, log, store, secret: Buffer.from(cfg.secretKey, 'hex'), udp: adoptUdp(cfg.udp, cfg.maxDatagramBytes, log) };
}

export interface SipWorkerEndpoint {
  endpoint: SipEndpoint;
  overload: OverloadControl;
  scanners: SipGuard;
  /** The counters every worker reports. */
  stats(): SipWorkerStats;
  /** Stops the overload sampler and closes the endpoint. */
  close(): void;
}

/** The worker's endpoint over `link`, saying what the main thread's says. */
export function workerEndpoint(
  cfg: SipWorkerConfig & { sip: Pick<SipConfig, 'scannerUserAgents' | 'overload'> },
  link: EndpointTransports,
  advertise: EndpointOptions['advertise'],
  log: Logger,
): SipWorkerEndpoint {
  const scanners = new SipGuard({ scannerAgents: cfg.sip.scannerUserAgents });
  const overload = new OverloadControl(cfg.sip.overload);
  const endpoint = new SipEndpoint({
    transports: link, advertise, server: cfg.endpoint.server, supported: cfg.endpoint.supported,
    filter: (msg) => !(msg.isRequest && scanners.isScanner(msg.getHeader('user-agent'))),
    overload, overloadFastPath: cfg.sip.overload.fastPath,
    onError: (err, context) => log.error({ err, context }, 'SIP processing error'),
  });
  const stopSampler = startEndpointOverload(endpoint, overload);
  return {
    endpoint, overload, scanners,
    stats: () => ({
      requestsIn: [...endpoint.messages.requestsIn],
      responsesOut: [...endpoint.messages.responsesOut],
      received: endpoint.counters.received,
      parseErrors: endpoint.counters.parseErrors,
      badRequests: endpoint.counters.badRequests,
      dropped: endpoint.counters.dropped,
      absorbed: endpoint.transactions.counters.absorbed,
      stateless: endpoint.counters.stateless,
      serverTransactions: endpoint.transactions.serverCount,
      rejected: overload.counters.rejected,
      shedDropped: overload.counters.dropped,
      scannerDrops: scanners.scannerDrops,
      utilization: overload.last.utilization,
      lagMs: overload.last.lagMs,
    }),
    close: () => { stopSampler(); endpoint.close(); },
  };
}
