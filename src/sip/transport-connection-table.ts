/**
 * The connection table shared by all stream transports of a layer: ids,
 * reuse index, limits and idle sweeping.
 *
 * Reuse (RFC 3261 §18.1.1/§18.2.2, RFC 5923): a message to (protocol,
 * address, port) goes over an open connection with that remote end, whether
 * we dialed it or the peer opened it to us (then the key is the peer's
 * source address:port, which is where §18.2.2 sends responses).
 */
import { connectionKey } from './transport-address.ts';
import type { SipConnection, StreamProtocol } from './transport-types.ts';

export interface ConnectionTableOptions {
  /** Open connections across all stream transports. Default 10,000. */
  readonly maxConnections?: number;
  /** Open connections per remote IP (a crude flood guard). Default 100. */
  readonly maxConnectionsPerIp?: number;
}

export class ConnectionTable {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  private readonly byId = new Map<number, SipConnection>();
  /** Newest last: reuse picks the most recent live flow to a remote end. */
  private readonly byKey = new Map<string, SipConnection[]>();
  private readonly perIp = new Map<string, number>();
  /** Ids admitted but not registered yet (TLS handshake / dial in progress) count towards the limits. */
  private readonly reserved = new Map<number, string>();
  private lastId = 0;

  constructor(options: ConnectionTableOptions = {}) {
    this.maxConnections = options.maxConnections ?? 10_000;
    this.maxConnectionsPerIp = options.maxConnectionsPerIp ?? 100;
  }

  /** Open plus reserved connections. */
  get size(): number {
    return this.byId.size + this.reserved.size;
  }

  countForIp(address: string): number {
    return this.perIp.get(address) ?? 0;
  }

  /**
   * Reserves a slot for a connection with `address` and returns its id, or 0
   * when the global or per-IP limit is reached. Pair with {@link add} or
   * {@link release}.
   */
  admit(address: string): number {
    const count = this.perIp.get(address) ?? 0;
    if (this.size >= this.maxConnections || count >= this.maxConnectionsPerIp) return 0;
    const id = ++this.lastId;
    this.perIp.set(address, count + 1);
    this.reserved.set(id, address);
    return id;
  }

  /** Gives back a slot from {@link admit} that never became a connection. */
  release(id: number): void {
    const address = this.reserved.get(id);
    if (address === undefined) return;
    this.reserved.delete(id);
    this.decrement(address);
  }

  /** Registers a connection whose id came from {@link admit}. */
  add(conn: SipConnection): void {
    if (!this.reserved.delete(conn.id)) {
      // Not admitted through this table: count it now so limits stay exact.
      this.perIp.set(conn.remoteAddress, this.countForIp(conn.remoteAddress) + 1);
    }
    this.byId.set(conn.id, conn);
    const key = connectionKey(conn.protocol, conn.remoteAddress, conn.remotePort);
    const list = this.byKey.get(key);
    if (list === undefined) this.byKey.set(key, [conn]);
    else list.push(conn);
  }

  /** Removes `conn`; false when it was not (or no longer) in the table. */
  remove(conn: SipConnection): boolean {
    if (this.byId.get(conn.id) !== conn) return false;
    this.byId.delete(conn.id);
    this.decrement(conn.remoteAddress);
    const key = connectionKey(conn.protocol, conn.remoteAddress, conn.remotePort);
    const list = this.byKey.get(key);
    if (list === undefined) return true;
    const at = list.indexOf(conn);
    if (at !== -1) list.splice(at, 1);
    if (list.length === 0) this.byKey.delete(key);
    return true;
  }

  get(id: number): SipConnection | undefined {
    return this.byId.get(id);
  }

  /** The newest live connection to (protocol, address, port); address must be canonical. */
  find(protocol: StreamProtocol, address: string, port: number): SipConnection | undefined {
    const list = this.byKey.get(connectionKey(protocol, address, port));
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      if (!list[i].closed) return list[i];
    }
    return undefined;
  }

  values(): IterableIterator<SipConnection> {
    return this.byId.values();
  }

  /** Connections without traffic since `now - idleMs` (not exempt). */
  idle(now: number, idleMs: number): SipConnection[] {
    const out: SipConnection[] = [];
    const cutoff = now - idleMs;
    for (const conn of this.byId.values()) {
      if (!conn.idleExempt && conn.lastActivity <= cutoff) out.push(conn);
    }
    return out;
  }

  private decrement(address: string): void {
    const count = (this.perIp.get(address) ?? 1) - 1;
    if (count <= 0) this.perIp.delete(address);
    else this.perIp.set(address, count);
  }
}
