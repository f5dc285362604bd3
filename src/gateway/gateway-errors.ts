/** Errors of the gateway service; each API family maps `code` to its own envelope and status. */
export const GATEWAY_ERRORS = {
  GW_BAD_REQUEST: 'bad gateway request',
  GW_RUNNING: 'a gateway with this gw_id is already running',
  GW_NOT_FOUND: 'no gateway with this gw_id',
  GW_CONFLICT: 'conflict',
  GW_CAPACITY: 'the maximum number of gateways is reached',
  GW_UNAVAILABLE: 'gateways need the media engine and rooms, which this node does not run',
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** HTTP status each code stands for (both gateway APIs use it). */
export const GATEWAY_ERROR_STATUS: Record<GatewayErrorCode, number> = {
  GW_BAD_REQUEST: 400,
  GW_RUNNING: 409,
  GW_NOT_FOUND: 404,
  GW_CONFLICT: 409,
  GW_CAPACITY: 503,
  GW_UNAVAILABLE: 503,
};

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  constructor(code: GatewayErrorCode, detail?: string) {
    super(detail === undefined ? GATEWAY_ERRORS[code] : `${GATEWAY_ERRORS[code]}: ${detail}`);
    this.name = 'GatewayError';
    this.code = code;
  }

  get status(): number {
    return GATEWAY_ERROR_STATUS[this.code];
  }
}
