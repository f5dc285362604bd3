/**
 * Call and session tokens of the call gateway: JWTs (HS256, `jose`) signed with a key derived
 * from STROWGER_SECRET_KEY. A call token carries `call_id`, `direction` and `app_id`; a
 * session token `session_id` and `app_id`. Both expire (`exp`, default one hour).
 */
import { createHmac } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

export type TokenClaims =
  | { kind: 'call'; call_id: string; direction: 'outgoing' | 'incoming'; app_id: string }
  | { kind: 'session'; session_id: string; app_id: string };

export class CallTokens {
  private readonly key: Uint8Array;

  constructor(secretKey: Buffer, private readonly ttlSeconds: number, private readonly now: () => number = Date.now) {
    // A key of its own: a leaked token key must not be the key of sealed secrets.
    this.key = createHmac('sha256', secretKey).update('strowger call-gateway token v1').digest();
  }

  sign(claims: TokenClaims): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(iat).setExpirationTime(iat + this.ttlSeconds).sign(this.key);
  }

  /** The claims of a valid, unexpired token; null otherwise (never throws). */
  async verify(token: string): Promise<TokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], currentDate: new Date(this.now()) });
      if (payload.kind === 'call' && typeof payload.call_id === 'string' && typeof payload.app_id === 'string') return payload as unknown as TokenClaims;
      if (payload.kind === 'session' && typeof payload.session_id === 'string' && typeof payload.app_id === 'string') return payload as unknown as TokenClaims;
      return null;
    } catch {
      return null;
    }
  }
}
