/** Gateways of seeds 000/001: Record, Streaming and SIP participants of built-in rooms. */
export { GatewayService, type GatewayServiceOptions, type GatewaySnapshot } from './gateway-service.ts';
export { GatewayError, GATEWAY_ERRORS, type GatewayErrorCode } from './gateway-errors.ts';
export { gatewayRunners, checkGatewayParams, type GatewayRunners, type RunnerDeps } from './gateway-runners.ts';
export { recordingMailer } from './recording-mail.ts';
export { GATEWAY_TYPES, type GatewayParams, type GatewayState, type GatewayTask, type GatewayType } from './gateway-types.ts';
