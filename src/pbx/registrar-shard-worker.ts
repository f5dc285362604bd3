/**
 * A registrar shard (`registrar-shards.ts`): a worker thread answering the REGISTERs of the
 * AORs it owns, with its own endpoint (parser, transaction layer, overload control), location
 * service, credential cache and database connection. The main thread reads the sockets and
 * sends what this writes; see the protocol in `registrar-shard-protocol.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSecretBox } from '../store/secret-box.ts';
import { parseMessage } from '../sip/parse-message.ts';
import { createDigestServer } from '../sip/digest-server.ts';
import type { MessageSource } from '../sip/transport-types.ts';
import { workerLink } from './shard-link.ts';
import { openSipWorker, workerEndpoint } from './sip-worker-start.ts';
import { DeviceCredentialCache } from './device-credentials.ts';
import { LocationService, registrationPolicy } from './location-service.ts';
import { createRegistrar } from './registrar.ts';
import { ShardGuard } from './registrar-shard-guard.ts';
import { shardOfAor } from './registrar-shard-route.ts';
import { forEachMessage, MessageBatcher } from '../media/message-batcher.ts';
import type { FromShard, ShardConfig, ShardStats, ToShard } from './registrar-shard-protocol.ts';

if (parentPort === null) throw new Error('registrar-shard-worker.ts must run in a worker thread');
const port = parentPort;
const cfg = workerData as ShardConfig;

/** What goes to the main thread, one post per turn of the event loop, in the order it happened. */
const outbox = new MessageBatcher<FromShard>((m) => port.postMessage(m));

async function start(): Promise<void> {
  const { logger, log, store, secret, udp } = openSipWorker(cfg, 'registrar_shard');
  // UDP replies leave on the socket the request came in on; stream replies through the main
  // thread, which owns the connections (a lost message is the transaction layer's to cover).
  // What a reply follows from (the committed binding) goes to the main thread first: posted
  // before the datagram leaves, it is ready on the main thread's loop before the phone's next
  // request can be, so a call routed after the 200 finds the binding.
  const link = workerLink(udp, (target, data) => outbox.send({ out: [target, data] }), () => outbox.flush());
  const sip = workerEndpoint(cfg, link, () => { throw new Error('a registrar shard sends no requests'); }, log);
  const { endpoint, overload } = sip;
  const location = new LocationService(store.db, { policy: registrationPolicy(cfg.sip) });
  const loaded = await location.load((aor) => shardOfAor(aor, cfg.count) === cfg.index);
  location.on('changed', (aor, list) => outbox.send({ aor: [aor, list] }));
  const credentials = new DeviceCredentialCache(store.db, createSecretBox(secret));
  const guard = new ShardGuard((ok, ip, username) => outbox.send({ auth: [ok, ip, username] }), cfg.locks);
  const registrar = createRegistrar({
    db: store.db,
    digest: createDigestServer({ realm: cfg.domain, secret, algorithms: cfg.sip.digestAlgorithms }),
    credentials, location, guard, logger,
    pinConnection: (id) => outbox.send({ pin: id }),
  });
  endpoint.onRequest('REGISTER', registrar.handleRegister, registrar.answerStateless);

  /** The owner of a REGISTER the main thread could not route, or -1 when it does not parse (answered here: 400). */
  const ownerOf = (data: Buffer): number => {
    try {
      const user = parseMessage(data).to.uri.user;
      return user ? shardOfAor(user, cfg.count) : -1;
    } catch {
      return -1;
    }
  };
  let rerouted = 0;
  const receive = (data: Uint8Array, source: MessageSource, routed: boolean) => {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (!routed && cfg.count > 1) {
      const owner = ownerOf(buf);
      if (owner >= 0 && owner !== cfg.index) { rerouted++; outbox.send({ reroute: [data, source, owner] }); return; }
    }
    link.onMessage(buf, source);
  };

  const stats = (): ShardStats => ({ ...sip.stats(), rerouted, shedShare: overload.shedShare, bindings: location.size });
  const statsTimer = setInterval(() => port.postMessage({ stats: stats() } satisfies FromShard), 1000);
  statsTimer.unref();

  const close = async () => {
    clearInterval(statsTimer);
    location.close();
    sip.close();
    for (const u of udp) await u.close();
    await store.close();
    port.postMessage({ closed: true } satisfies FromShard);
  };

  port.on('message', (data: ToShard | ToShard[]) => forEachMessage(data, (m) => {
    if (m.in) receive(...m.in);
    else if (m.invalidate !== undefined) credentials.invalidate(m.invalidate ?? undefined);
    else if (m.deletedDevice !== undefined) void location.removeDevice(m.deletedDevice).catch((err) => log.error({ err }, 'could not drop registrations of a deleted device'));
    else if (m.closedConnection !== undefined) location.connectionClosed(m.closedConnection);
    else if (m.ban) guard.apply(m.ban);
    else if (m.stats) port.postMessage({ stats: stats() } satisfies FromShard);
    else if (m.close) void close().catch((err) => log.error({ err }, 'registrar shard did not close cleanly'));
  }));
  port.postMessage({ ready: { loaded } } satisfies FromShard);
}

start().catch((err: unknown) => {
  port.postMessage({ failed: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies FromShard);
});
