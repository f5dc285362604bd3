/**
 * Signature of hook deliveries: `X-Strowger-Signature: sha256=<hex>` where hex is
 * HMAC-SHA256(app_secret, `<X-Strowger-Timestamp>.` + raw body). The timestamp inside the
 * MAC lets a receiver refuse replays of old deliveries.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-strowger-signature';
export const TIMESTAMP_HEADER = 'x-strowger-timestamp';

export function signHook(secret: string, timestamp: number, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/** Receiver side (tests, docs): true when `signature` is the one of `body` at `timestamp`. */
export function verifyHook(secret: string, timestamp: number, body: Buffer | string, signature: string): boolean {
  const want = Buffer.from(signHook(secret, timestamp, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
