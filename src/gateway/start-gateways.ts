/**
 * Start-up of the gateway service: gateways a previous run left live are marked `ended`, the
 * runners get the media engine, the recordings folder, the transcription engine and the
 * mailer. On a node without media (HTTP only) the service exists and answers 503.
 */
import { join } from 'node:path';
import type { ApiContext } from '../api/context.ts';
import type { TranscriptionEngine } from '../integrations/transcription/index.ts';
import { GatewayService } from './gateway-service.ts';
import { gatewayRunners, checkGatewayParams } from './gateway-runners.ts';
import { recordingMailer } from './recording-mail.ts';
import type { ExternalSystem } from './external-room.ts';
import { GatewayError } from './gateway-errors.ts';
import { WhipWhepAdapter } from '../rooms/whip-whep-adapter.ts';

export async function startGateways({ ctx, transcription }: { ctx: ApiContext; transcription: TranscriptionEngine }): Promise<GatewayService> {
  const { config, store, box, logger } = ctx;
  const runners = ctx.media !== undefined
    ? gatewayRunners({
      media: ctx.media,
      recordingsDir: join(config.dataDir, 'media', 'gateways'),
      transcription,
      mail: recordingMailer(store.db, box),
      streamRetries: config.gateways.streamRetries,
      streamRetryBaseMs: config.gateways.streamRetryBaseMs,
      originator: ctx.sip?.originator,
      dialPlan: ctx.roomDialPlan,
      domain: config.domain,
    })
    : { check: checkGatewayParams, create: () => { throw new GatewayError('GW_UNAVAILABLE'); } };
  const webrtc = ctx.webrtc;
  const conference = webrtc === undefined ? undefined : (system: ExternalSystem) => new WhipWhepAdapter({ webrtc, ...system });
  const gateways = new GatewayService({ db: store.db, rooms: ctx.rooms, max: config.gateways.max, logger, runners, conference, systems: config.gateways.conferenceSystems });
  const ended = await gateways.endOrphans();
  if (ended > 0) logger.warn({ ended }, 'gateways of the previous run marked ended');
  ctx.gateways = gateways;
  ctx.status.set('gateways', () => ({ status: ctx.rooms ? 'running' : 'unavailable', live: gateways.liveCount, max: config.gateways.max }));
  return gateways;
}
