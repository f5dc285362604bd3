/**
 * The `/api` error catalogue (seed 003): each code has one HTTP status.
 * Body: {"error":{"code","message","details"}}.
 */
import { Type, type Static } from '@sinclair/typebox';

export const API_ERROR_STATUS = {
  validation_error: 400,
  bad_request: 400,
  authentication_error: 401,
  authorization_error: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  range_not_satisfiable: 416,
  rate_limited: 429,
  internal_error: 500,
  not_implemented: 501,
  bad_gateway: 502,
  service_unavailable: 503,
  gateway_timeout: 504,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(readonly code: ApiErrorCode, message: string, readonly details: FieldError[] | Record<string, unknown> | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERROR_STATUS[code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const notFound = (what: string) => new ApiError('not_found', `${what} not found`);
export const conflict = (message: string, details: FieldError[] | null = null) => new ApiError('conflict', message, details);
export const badRequest = (message: string, details: FieldError[] | null = null) => new ApiError('bad_request', message, details);
export const validationError = (details: FieldError[]) => new ApiError('validation_error', 'Validation failed', details);
export const forbidden = (message = 'Not authorized') => new ApiError('authorization_error', message);
export const unauthenticated = (message = 'Not authenticated') => new ApiError('authentication_error', message);
export const notImplemented = (message: string) => new ApiError('not_implemented', message);

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ examples: ['validation_error'] }),
    message: Type.String({ examples: ['Validation failed'] }),
    details: Type.Union([
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
      Type.Record(Type.String(), Type.Unknown()),
      Type.Null(),
    ]),
  }),
}, { $id: 'ErrorBody', description: 'Error envelope of /api (seed 003)' });
export type ErrorBody = Static<typeof ErrorBody>;

/** Standard error responses to merge into a route's `response` schema. */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const s of statuses) out[s] = Type.Ref('ErrorBody');
  return out;
}
