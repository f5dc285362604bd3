/**
 * Transaction timer values (RFC 3261 §17 and Table 4 in Appendix A;
 * RFC 6026 §8.4/§8.7 for timers L and M).
 *
 *   timer  meaning                                   unreliable       reliable
 *   T1     RTT estimate                              500 ms
 *   T2     max retransmit interval (non-INVITE       4 s
 *          requests, INVITE responses)
 *   T4     max time a message stays in the network   5 s
 *   A      INVITE request retransmit, doubles        T1               not used
 *   B      INVITE transaction timeout                64*T1            64*T1
 *   D      wait for response retransmits (client)    32 s             0
 *   E      non-INVITE request retransmit, doubles    T1, cap T2       not used
 *   F      non-INVITE transaction timeout            64*T1            64*T1
 *   G      INVITE response retransmit, doubles       T1, cap T2       not used
 *   H      wait for ACK receipt                      64*T1            64*T1
 *   I      wait for ACK retransmits (server)         T4               0
 *   J      wait for non-INVITE request retransmits   64*T1            0
 *   K      wait for response retransmits (client)    T4               0
 *   L      wait for INVITE retransmits after 2xx     64*T1            64*T1
 *   M      wait for 2xx retransmits (client)         64*T1            64*T1
 */

/** Base values; every field optional in the layer options. */
export interface TransactionTimerConfig {
  /** RTT estimate, default 500 ms. */
  readonly t1: number;
  /** Cap of retransmission intervals, default 4000 ms. */
  readonly t2: number;
  /** Network lifetime of a message, default 5000 ms. */
  readonly t4: number;
  /** Timer D on unreliable transports, default 32 000 ms ("at least 32 seconds", §17.1.1.2). */
  readonly timerD: number;
  /** Delay before the INVITE server transaction sends 100 Trying itself, default 200 ms (§17.2.1). */
  readonly trying: number;
}

export const DEFAULT_TIMER_CONFIG: TransactionTimerConfig = {
  t1: 500,
  t2: 4000,
  t4: 5000,
  timerD: 32_000,
  trying: 200,
};

/** Resolved values for one transport reliability; 0 means "not started". */
export interface TransactionTimerValues {
  readonly t1: number;
  readonly t2: number;
  /** Initial retransmission interval (A, E, G); 0 on reliable transports. */
  readonly retransmit: number;
  readonly timerB: number;
  readonly timerD: number;
  readonly timerF: number;
  readonly timerH: number;
  readonly timerI: number;
  readonly timerJ: number;
  readonly timerK: number;
  readonly timerL: number;
  readonly timerM: number;
  readonly trying: number;
}

/** Values for unreliable (UDP) and reliable (TCP, TLS, WS) transports. */
export function resolveTimers(config: TransactionTimerConfig, reliable: boolean): TransactionTimerValues {
  const { t1, t2, t4 } = config;
  const sixtyFour = 64 * t1;
  return {
    t1,
    t2,
    retransmit: reliable ? 0 : t1,
    timerB: sixtyFour,
    timerD: reliable ? 0 : config.timerD,
    timerF: sixtyFour,
    timerH: sixtyFour,
    timerI: reliable ? 0 : t4,
    timerJ: reliable ? 0 : sixtyFour,
    timerK: reliable ? 0 : t4,
    timerL: sixtyFour,
    timerM: sixtyFour,
    trying: config.trying,
  };
}
