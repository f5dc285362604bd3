/**
 * Scanner and formatter for authentication header values: WWW-Authenticate,
 * Proxy-Authenticate, Authorization, Proxy-Authorization (RFC 3261 §25.1,
 * RFC 7235 §2.1).
 *
 *   value      = challenge *( "," challenge )
 *   challenge  = auth-scheme 1*SP [ token68 / auth-param *( "," auth-param ) ]
 *   auth-param = token LWS "=" LWS ( token / quoted-string )
 *   quoted-string = DQUOTE *( qdtext / "\" CHAR ) DQUOTE
 *
 * One header value may carry several challenges; a token that is not
 * followed by "=" after a comma starts the next one (RFC 7235 §4.1).
 * Parameter names are case-insensitive and returned lowercased; values are
 * unescaped. A parameter given twice makes the challenge malformed
 * (RFC 7616 §3.3: "MUST NOT appear more than once").
 */

/** One challenge or one set of credentials. */
export interface AuthParams {
  /** Scheme as written (`Digest`); compare case-insensitively. */
  readonly scheme: string;
  /** Lowercased parameter name -> unescaped value. */
  readonly params: ReadonlyMap<string, string>;
  /** token68 form (`Basic dXNlcg==`), when present. */
  readonly token68?: string;
}

// RFC 3261 §25.1 token characters.
const TOKEN = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") {
  TOKEN[c.charCodeAt(0)] = 1;
}
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;

function isToken(code: number): boolean {
  return code < 128 && TOKEN[code] === 1;
}

function isSpace(code: number): boolean {
  // SP, HTAB, CR, LF: an unfolded header may still contain LWS.
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

class Scanner {
  pos = 0;
  constructor(readonly s: string) {}

  skipSpace(): void {
    while (this.pos < this.s.length && isSpace(this.s.charCodeAt(this.pos))) this.pos++;
  }

  skipSpaceAndCommas(): void {
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (!isSpace(c) && c !== 0x2c) break;
      this.pos++;
    }
  }

  token(): string {
    const start = this.pos;
    while (this.pos < this.s.length && isToken(this.s.charCodeAt(this.pos))) this.pos++;
    return this.s.slice(start, this.pos);
  }

  /** Parses a quoted-string starting at the opening quote; undefined if unterminated. */
  quoted(): string | undefined {
    this.pos++; // opening DQUOTE
    let out = '';
    let start = this.pos;
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += this.s.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        if (this.pos + 1 >= this.s.length) return undefined;
        out += this.s.slice(start, this.pos) + this.s[this.pos + 1];
        this.pos += 2;
        start = this.pos;
        continue;
      }
      this.pos++;
    }
    return undefined;
  }

  atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): number {
    return this.s.charCodeAt(this.pos);
  }
}

/**
 * Parses every challenge/credential in `value`. Returns undefined when the
 * value is malformed (unterminated quote, duplicate parameter, garbage).
 *
 * @example
 * parseAuthParams('Digest realm="a.com", nonce="x", algorithm=MD5')
 * // [{ scheme: 'Digest', params: Map { realm => a.com, nonce => x, algorithm => MD5 } }]
 */
export function parseAuthParams(value: string): AuthParams[] | undefined {
  const sc = new Scanner(value);
  const out: AuthParams[] = [];
  sc.skipSpaceAndCommas();
  let scheme = sc.token();
  while (scheme !== '') {
    const params = new Map<string, string>();
    let token68: string | undefined;
    let nextScheme = '';
    sc.skipSpace();
    TOKEN68.lastIndex = sc.pos;
    const t68 = TOKEN68.exec(value);
    if (t68 !== null && endsElement(value, sc.pos + t68[0].length)) {
      token68 = t68[0];
      sc.pos += t68[0].length;
    }
    for (;;) {
      sc.skipSpaceAndCommas();
      if (sc.atEnd()) break;
      const name = sc.token();
      if (name === '') return undefined;
      sc.skipSpace();
      if (sc.atEnd() || sc.peek() !== 0x3d) {
        nextScheme = name; // a bare token after a comma starts the next challenge
        break;
      }
      if (token68 !== undefined) return undefined; // token68 and auth-params do not mix
      sc.pos++; // "="
      sc.skipSpace();
      let v: string | undefined;
      if (!sc.atEnd() && sc.peek() === 0x22) v = sc.quoted();
      else v = sc.token();
      if (v === undefined || (v === '' && !endsElement(value, sc.pos))) return undefined;
      const key = name.toLowerCase();
      if (params.has(key)) return undefined;
      params.set(key, v);
      sc.skipSpace();
      if (!sc.atEnd() && sc.peek() !== 0x2c) return undefined;
    }
    out.push(token68 === undefined ? { scheme, params } : { scheme, params, token68 });
    scheme = nextScheme;
  }
  if (!sc.atEnd()) return undefined;
  return out;
}

function endsElement(s: string, pos: number): boolean {
  while (pos < s.length && isSpace(s.charCodeAt(pos))) pos++;
  return pos >= s.length || s.charCodeAt(pos) === 0x2c;
}

/** A parameter to format: quoted values are escaped per RFC 3261 §25.1. */
export type AuthParamEntry = readonly [name: string, value: string, quoted: boolean];

/**
 * Formats `scheme name=value, name="value"`. Values of unquoted entries must
 * already be tokens (algorithm, nc, qop in credentials, stale).
 */
export function formatAuthParams(scheme: string, entries: readonly AuthParamEntry[]): string {
  let out = scheme;
  for (let i = 0; i < entries.length; i++) {
    const [name, value, quoted] = entries[i];
    out += (i === 0 ? ' ' : ', ') + name + '=' + (quoted ? quote(value) : value);
  }
  return out;
}

/** `"` + value with `"` and `\` escaped + `"`. */
export function quote(value: string): string {
  return '"' + value.replace(/["\\]/g, '\\$&') + '"';
}
