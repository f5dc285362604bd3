/**
 * Start-up and shutdown of one Strowger node: store → migrations → first-run admin →
 * subsystems → HTTP. `startServer` is what `main.ts` and the integration tests call.
 */
import { RoomRegistry } from './rooms/room-registry.ts';
import { RoomDialPlan } from './rooms/room-dial-plan.ts';
import { roomParties } from './rooms/room-parties.ts';
import { firstParty } from './pbx/call-local.ts';
import { readFileSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { openStore, migrateToLatest, type Store } from './store/database.ts';
import { createSecretBox } from './store/secret-box.ts';
import { buildApp } from './api/app.ts';
import type { ApiContext } from './api/context.ts';
import { completeSetup, isSetupComplete } from './pbx/setup.ts';
import { hashPassword } from './api/shared/passwords.ts';
import { firstSipHost, firstSipHost6, startSipServer } from './pbx/sip-server.ts';
import { portSlices } from './pbx/call-shards.ts';
import { createMediaEngine } from './media/media-engine.ts';
import { ZrtpCalls } from './pbx/zrtp-calls.ts';
import { realTimers } from './pbx/call-timers.ts';
import { createWebRtcFactory } from './media/webrtc/index.ts';
import { createEventBus } from './events.ts';
import { MohService } from './pbx/moh.ts';
import { TwilioAccount } from './pbx/twilio-account.ts';
import { SmsSender } from './pbx/sms-sender.ts';
import { VoicemailFiles } from './pbx/voicemail/voicemail-files.ts';
import { VoicemailMailer } from './pbx/voicemail/voicemail-mailer.ts';
import { voicemailParties } from './pbx/voicemail/voicemail-parties.ts';
import { PlayerEnds } from './pbx/voicemail/leg-audio.ts';
import { Prompts } from './pbx/voicemail/prompts.ts';
import { VoicemailTranscriber } from './pbx/voicemail/voicemail-transcriber.ts';
import { createTranscriptionEngine } from './integrations/transcription/index.ts';
import { startGateways } from './gateway/start-gateways.ts';
import { startCallGateway } from './gateway/start.ts';
import { TlsCertificates } from './pbx/tls/tls-certificates.ts';
import { SrtpSettingsService } from './pbx/srtp-settings.ts';

export interface RunningServer {
  ctx: ApiContext;
  app: FastifyInstance;
  /** The HTTP port actually bound (differs from config when 0 was asked). */
  httpPort: number;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** PostgreSQL schema (tests isolate themselves per schema). */
  dbSchema?: string;
  /** false: HTTP only (API tests that need no SIP listener). */
  sip?: boolean;
  /** Test/benchmark hook: runs on the built app before it listens (e.g. a reference route in bench/api.ts). */
  configureApp?: (app: FastifyInstance) => void | Promise<void>;
  /** Test hook: call shards record the Call-IDs they handle (`CallShards.mainTrace`, the shards' `trace` operation). */
  traceCallShards?: boolean;
}

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { service: 'strowger' } });
  const store: Store = openStore(config.databaseUrl, { schema: opts.dbSchema, walCheckpoint: 'thread', writerThread: config.sqliteWriterThread, logger });
  const closers: Array<() => Promise<void>> = [() => store.close()];
  try {
    await migrateToLatest(store);
    const box = createSecretBox(config.secretKey);
    if (config.adminEmail && config.adminPassword && !(await isSetupComplete(store.db))) {
      await completeSetup(store.db, box, { email: config.adminEmail, passwordHash: await hashPassword(config.adminPassword) });
      logger.info({ email: config.adminEmail }, 'setup completed from STROWGER_ADMIN_EMAIL');
    }
    const moh = new MohService({ db: store.db, box, dataDir: config.dataDir, limits: config.moh, logger });
    await moh.sweepTemp();
    const ctx: ApiContext = {
      config, store, box, logger, startedAt: Date.now(), version: VERSION,
      status: new Map(), events: createEventBus(), moh,
      twilio: new TwilioAccount({ db: store.db, box, apiBase: config.twilio.apiBase }),
    };
    const sms = new SmsSender({
      db: store.db, account: ctx.twilio, logger: logger.child({ component: 'sms' }),
      maxAttempts: config.twilio.smsMaxAttempts, retryBaseMs: config.twilio.smsRetryBaseMs,
      statusCallbackUrl: config.twilio.publicUrl && `${config.twilio.publicUrl}/api/webhooks/sms/status`,
    });
    ctx.events.on('sms.message.queued', () => sms.kick());
    ctx.status.set('twilio', () => ctx.twilio.status());
    sms.start();
    closers.unshift(() => sms.close());
    ctx.voicemail = new VoicemailFiles({ db: store.db, events: ctx.events, dataDir: config.dataDir, logger });
    // Before SIP takes calls: a recording in progress would look like an orphan.
    await ctx.voicemail.sweep();
    const vmFiles = ctx.voicemail;
    const transcriptionEngine = createTranscriptionEngine(config.transcription.engine);
    const mailer = new VoicemailMailer({
      db: store.db, box, events: ctx.events, logger, audioPath: (row) => vmFiles.absolutePath(row),
      retryMs: config.voicemail.mailRetryMs, maxAttempts: config.voicemail.mailMaxAttempts,
      // Mails wait for the transcript only when there is an engine to make one.
      transcriptWaitMs: transcriptionEngine.name === 'none' ? 0 : config.voicemail.mailTranscriptWaitMs,
    });
    closers.unshift(() => mailer.close());
    void mailer.kick();
    // Transcribes each message announced as added (STROWGER_TRANSCRIPTION_ENGINE; `none`: off).
    const transcriber = new VoicemailTranscriber({
      db: store.db, engine: transcriptionEngine, audioPath: (row) => vmFiles.absolutePath(row), logger,
      settled: (id) => void mailer.transcriptionSettled(id).catch((err) => logger.error({ err, id }, 'voicemail mail not woken')),
    });
    transcriber.listen(ctx.events);
    ctx.transcriber = transcriber;
    closers.unshift(async () => transcriber.close());
    void transcriber.resume().catch((err) => logger.error({ err }, 'pending transcriptions not resumed'));
    const tlsCerts = new TlsCertificates({
      db: store.db, box, logger: logger.child({ component: 'tls' }), dataDir: config.dataDir, domain: config.domain, publicIp: config.publicIp,
      certFile: config.sip.tlsCertFile, keyFile: config.sip.tlsKeyFile, renewCheckMs: config.sip.tlsRenewCheckMs,
      acmeDirectoryCa: config.sip.acmeCaFile && readFileSync(config.sip.acmeCaFile, 'utf8'),
    });
    ctx.tls = tlsCerts;
    const srtpSettings = new SrtpSettingsService(store.db, box, config.sip.srtpInsecureSignalling);
    await srtpSettings.load();
    ctx.srtp = srtpSettings;
    // A restore replaced the system_config row: the next calls (on every thread) use the restored settings.
    ctx.events.on('system.restored', () => { void srtpSettings.reload().catch((err) => logger.error({ err }, 'SRTP settings not reloaded after the restore')); });
    closers.unshift(async () => tlsCerts.close());
    if (opts.sip !== false) {
      const firstHost = firstSipHost(config.sip);
      // With call shards each thread owning calls has its own media engine and slice of the ports.
      const slices = portSlices(config.rtpPorts, config.sip.callThreads + 1);
      const mediaOptions = {
        portRange: slices[0]!,
        bindAddress: firstHost ?? '0.0.0.0',
        // IPv6 media where SIP listens on IPv6 too: IPv6 callers get IPv6 legs (see pbx/media-family.ts).
        bindAddress6: firstSipHost6(config.sip),
        advertisedAddress: (config.publicIp?.includes(':') ? undefined : config.publicIp) ?? firstHost,
        advertisedAddress6: config.publicIp?.includes(':') && firstSipHost6(config.sip) !== undefined ? config.publicIp : undefined,
        workers: config.calls.mediaWorkers,
        rtpTimeoutMs: config.calls.rtpTimeoutMs,
        srtpAuthTimeoutMs: config.calls.srtpAuthFailMs,
      };
      const media = await createMediaEngine({ ...mediaOptions, log: (message) => logger.info({ component: 'media' }, message) });
      // Closed after the SIP server (its calls release their legs first).
      closers.unshift(() => media.close());
      ctx.media = media;
      const rooms = new RoomRegistry({ media, limits: config.rooms });
      ctx.rooms = rooms;
      closers.unshift(() => rooms.close());
      const roomDialPlan = new RoomDialPlan({ prefix: config.roomCalls.prefix, ivrNumber: config.roomCalls.ivrNumber });
      ctx.roomDialPlan = roomDialPlan;
      const ends = new PlayerEnds(media);
      const prompts = new Prompts(config.dataDir);
      const zrtp = await ZrtpCalls.create({ db: store.db, box, media, timers: realTimers, logger });
      ctx.zrtp = zrtp;
      closers.unshift(async () => zrtp.close());
      // Browsers' ICE candidates: the configured addresses, else the media address; the shim
      // reaches the engine's legs where they are bound (loopback for a wildcard bind).
      ctx.webrtc = createWebRtcFactory(media, {
        iceAddresses: config.webrtc.addresses ?? [media.advertisedAddress],
        icePortRange: config.webrtc.ports,
        engineAddress: firstHost && firstHost !== '0.0.0.0' && !firstHost.includes(':') ? firstHost : '127.0.0.1',
      });
      const sip = await startSipServer({
        sip: config.sip, domain: config.domain, publicIp: config.publicIp, dataDir: config.dataDir,
        secretKey: config.secretKey, db: store.db, box, logger, events: ctx.events, version: VERSION,
        store: { url: config.databaseUrl, schema: opts.dbSchema, logLevel: logger.level, writeLock: store.writeLock },
        media, calls: config.calls, moh, mwi: config.mwi, zrtp, webrtc: ctx.webrtc,
        voicemailNumber: config.voicemail.number,
        tlsCertificate: () => tlsCerts.certificate(),
        srtpSettings: () => srtpSettings.current,
        localParty: firstParty(voicemailParties({
          db: store.db, box, media, ends, files: vmFiles, prompts,
          config: config.voicemail, logger,
        }), roomParties({ rooms, media, ends, prompts, logger, digitTimeoutMs: config.roomCalls.ivrDigitTimeoutMs })),
        roomDialPlan,
        callShards: {
          media: (i) => ({ ...mediaOptions, portRange: slices[i]!, workers: 1 }),
          srtp: () => srtpSettings.current, rooms: roomDialPlan, dataDir: config.dataDir,
          roomPrefix: config.roomCalls.prefix, roomIvrNumber: config.roomCalls.ivrNumber, trace: opts.traceCallShards,
        },
      });
      ctx.sip = sip;
      srtpSettings.onChange = (current) => sip.callShards?.srtpChanged(current);
      tlsCerts.attach((pair) => sip.transports.setCertificate(pair));
      // Registrar shards report about once a second: ask for fresh counters first.
      ctx.status.set('sip', async () => { await Promise.all([sip.registrarShards?.refreshStats(), sip.callShards?.refreshStats()]); return sip.status(); });
      ctx.status.set('media', () => ({ status: 'running', ...media.totals(), active_calls: sip.b2bua.activeCalls + (sip.callShards?.sum((x) => x.activeCalls) ?? 0) }));
      closers.unshift(() => sip.close());
    }
    // After the media: a gateway stops (leaves its room, closes its file) before rooms close.
    const gateways = await startGateways({ ctx, transcription: transcriptionEngine });
    closers.unshift(() => gateways.close());
    startCallGateway(ctx, closers);
    const app = await buildApp(ctx);
    closers.unshift(() => app.close());
    await opts.configureApp?.(app);
    await app.listen({ port: config.httpPort, host: config.host });
    const addr = app.server.address();
    const httpPort = typeof addr === 'object' && addr ? addr.port : config.httpPort;
    logger.info({ httpPort, database: store.dialect }, 'strowger started');
    let closing: Promise<void> | undefined;
    return {
      ctx, app, httpPort,
      close: () => (closing ??= (async () => {
        for (const c of closers) await c().catch((err) => logger.error({ err }, 'error during shutdown'));
      })()),
    };
  } catch (err) {
    for (const c of closers) await c().catch(() => {});
    throw err;
  }
}
