/*
 * Native pass-through RTP relay for the media worker (src/media/native-relay.ts).
 *
 * JS keeps owning the UDP sockets; for a pair of bridged plain-RTP legs it stops reading them
 * (`recvStop`) and lends us their file descriptors with the whole relay state (latches, the
 * sink's outgoing stream, counters). One epoll thread per addon instance (per worker) then
 * receives with recvmmsg, applies the rules of src/media/relay-leg.ts `receiveRtp` /
 * `receiveRtcp` (same latch rule as source-latch.ts, same unknown-PT drop, same rewrite as
 * rtp-out-stream.ts) and sends with sendmmsg, batched per destination socket. `detach` takes
 * the descriptors back under the mutex, so no packet is in flight here once it returns, and
 * hands the state back to JS, which continues the same streams.
 *
 * Telephone-event packets of a leg whose DTMF the graph listens to are relayed as usual and a
 * copy is queued for JS, which polls `events()` and feeds its RFC 4733 receiver.
 *
 * Shared layout with native-relay.ts (doubles): see the STATE_* and C_* indexes below. The
 * counters live in a JS ArrayBuffer that this thread writes and JS reads (aligned doubles: a
 * torn read cannot happen on x86-64 / aarch64), so statistics need no call per packet.
 *
 * Times are JS `performance.now()` milliseconds: CLOCK_MONOTONIC ms + the offset JS gives at
 * attach.
 */
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
/* As libuv: the largest UDP payload fits, so nothing is ever truncated. */
#define BUF_SIZE 65536

/* Per-leg state (Float64Array, STATE_SIZE doubles per leg). */
enum {
  S_FD, S_RTCP_FD,
  S_REMOTE_RTP_PORT, S_REMOTE_RTCP_PORT, S_RTCP_MUX,
  S_CODEC_PT, S_EVENT_PT, S_AUDIO_PT_OUT, S_EVENT_PT_OUT, S_CLOCK_RATE,
  S_RTP_LATCH, /* latched, port, ssrc, windowEndsAt, lastAt, sdpPort, windowMs, relatchAfterMs */
  S_RTCP_LATCH = S_RTP_LATCH + 8,
  S_OUT = S_RTCP_LATCH + 8, /* ssrc, seq, ts, at, mapped, sourceSsrc, seqDelta, tsDelta */
  S_REPORT_EVENTS = S_OUT + 8, /* 1: copies of its telephone-event packets go to JS (DTMF reporting) */
  STATE_SIZE,
};
enum { L_LATCHED, L_PORT, L_SSRC, L_WINDOW_ENDS_AT, L_LAST_AT, L_SDP_PORT, L_WINDOW_MS, L_RELATCH_AFTER_MS };
enum { O_SSRC, O_SEQ, O_TS, O_AT, O_MAPPED, O_SOURCE_SSRC, O_SEQ_DELTA, O_TS_DELTA };
/* Strings per leg: remote address, RTP latch address + SDP address, RTCP latch address + SDP address. */
enum { A_REMOTE, A_RTP_LATCH, A_RTP_SDP, A_RTCP_LATCH, A_RTCP_SDP, ADDRS };

/* Counters (ArrayBuffer, COUNTERS doubles per leg): one stream block for RTP, one for RTCP. */
enum { C_PACKETS_IN, C_BYTES_IN, C_PACKETS_OUT, C_BYTES_OUT, C_LAST_IN_AT, C_DROPPED_INVALID, C_DROPPED_UNROUTED, C_LATCH_DROPPED, C_LATCH_MOVES, STREAM_COUNTERS };
enum { C_RTP = 0, C_RTCP = STREAM_COUNTERS, C_UNKNOWN_PT = 2 * STREAM_COUNTERS, C_SOCKET_ERRORS, C_SWITCHES, COUNTERS = 24 };

typedef struct {
  struct sockaddr_storage sa;
  socklen_t len;
} addr_t;

/* source-latch.ts, field for field. */
typedef struct {
  int latched;
  addr_t addr;
  uint32_t ssrc;
  double windowEndsAt, lastAt;
  int sdpValid;
  addr_t sdp;
  double windowMs, relatchAfterMs;
  double *c; /* the stream's counter block (latch dropped/moves live there) */
} latch_t;

/* rtp-out-stream.ts, field for field (switches lives in the counters). */
typedef struct {
  uint32_t ssrc, ts, sourceSsrc, tsDelta;
  uint16_t seq, seqDelta;
  int mapped;
  double at;
} out_t;

typedef struct leg {
  int fd, rtcpFd, family;
  addr_t remoteRtp, remoteRtcp;
  int rtcpMux;
  int codecPt, eventPt, audioPtOut, eventPtOut;
  double clockRate;
  int reportEvents, side;
  double handle;
  latch_t rtp, rtcp;
  out_t out;
  double *c;
} leg_t;

typedef struct {
  leg_t leg[2];
  uint32_t gen;
  napi_ref counters;
} pair_t;

/* A telephone-event packet as received, queued for JS (`events`). */
typedef struct event {
  struct event *next;
  double handle;
  int side;
  size_t len;
  uint8_t data[];
} event_t;

/* Events queued at most: a JS thread that stopped polling must not grow us without bound. */
#define MAX_EVENTS 4096

typedef struct {
  pthread_mutex_t mu;
  event_t *evHead, *evTail;
  uint32_t evCount;
  pthread_t thread;
  int running;
  volatile int stop;
  int epfd, evfd;
  volatile int tid;
  pair_t **slots;
  uint32_t nslots, attached, gen;
  double timeOffset;
  /* Receive / send batches (thread only; RTCP injected from JS sends directly). */
  struct mmsghdr rmsg[BATCH];
  struct iovec riov[BATCH];
  struct sockaddr_storage rfrom[BATCH];
  uint8_t *rbuf;
  struct mmsghdr smsg[BATCH];
  struct iovec siov[BATCH];
  int nsend, sendFd;
  leg_t *sendLeg;
} inst_t;

/* ---------- time and addresses ---------- */

static double monotonic_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int addr_eq(const addr_t *a, const struct sockaddr_storage *b) {
  if (a->sa.ss_family != b->ss_family) return 0;
  if (b->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const struct sockaddr_in *)&a->sa, *y = (const struct sockaddr_in *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->sa, *y = (const struct sockaddr_in6 *)b;
  return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void addr_set(addr_t *a, const struct sockaddr_storage *from) {
  a->sa = *from;
  a->len = from->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* The text Node gives as rinfo.address (node's AddressToJS: inet_ntop, "%if" for a scope). */
static void addr_text(const addr_t *a, char *out, size_t size) {
  out[0] = 0;
  if (a->sa.ss_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->sa)->sin_addr, out, size);
  } else if (a->sa.ss_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->sa;
    inet_ntop(AF_INET6, &s6->sin6_addr, out, size);
    if (s6->sin6_scope_id != 0) {
      char name[IF_NAMESIZE];
      size_t n = strlen(out);
      if (if_indextoname(s6->sin6_scope_id, name) == NULL) snprintf(name, sizeof name, "%u", s6->sin6_scope_id);
      snprintf(out + n, size - n, "%%%s", name);
    }
  }
}

static int addr_port(const addr_t *a) {
  return ntohs(a->sa.ss_family == AF_INET ? ((const struct sockaddr_in *)&a->sa)->sin_port : ((const struct sockaddr_in6 *)&a->sa)->sin6_port);
}

/*
 * Parses an IP literal of the socket's family. Only the canonical text (what addr_text gives
 * back) is accepted: JS compares addresses as strings, so "0:0::1" never equals "::1" there.
 */
static int addr_parse(int family, const char *text, int port, addr_t *a) {
  memset(a, 0, sizeof *a);
  if (family == AF_INET) {
    struct sockaddr_in *s = (struct sockaddr_in *)&a->sa;
    if (inet_pton(AF_INET, text, &s->sin_addr) != 1) return 0;
    s->sin_family = AF_INET;
    s->sin_port = htons((uint16_t)port);
    a->len = sizeof *s;
  } else {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->sa;
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    snprintf(host, sizeof host, "%s", text);
    char *pct = strchr(host, '%');
    if (pct != NULL) {
      *pct = 0;
      s->sin6_scope_id = if_nametoindex(pct + 1);
      if (s->sin6_scope_id == 0) s->sin6_scope_id = (uint32_t)strtoul(pct + 1, NULL, 10);
    }
    if (inet_pton(AF_INET6, host, &s->sin6_addr) != 1) return 0;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons((uint16_t)port);
    a->len = sizeof *s;
  }
  char back[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  addr_text(a, back, sizeof back);
  return strcmp(back, text) == 0;
}

/* ---------- source-latch.ts ---------- */

static void latch_onto(latch_t *l, const struct sockaddr_storage *from, uint32_t ssrc, double now) {
  l->latched = 1;
  addr_set(&l->addr, from);
  l->ssrc = ssrc;
  l->windowEndsAt = now + l->windowMs;
  l->lastAt = now;
}

static int latch_accept(latch_t *l, const struct sockaddr_storage *from, uint32_t ssrc, double now) {
  if (!l->latched) {
    latch_onto(l, from, ssrc, now);
    return 1;
  }
  if (addr_eq(&l->addr, from)) {
    l->lastAt = now;
    return 1;
  }
  if (now < l->windowEndsAt) {
    if (ssrc == l->ssrc || (l->sdpValid && addr_eq(&l->sdp, from))) {
      addr_set(&l->addr, from);
      l->lastAt = now;
      l->c[C_LATCH_MOVES]++;
      return 1;
    }
  } else if (now - l->lastAt >= l->relatchAfterMs) {
    latch_onto(l, from, ssrc, now);
    l->c[C_LATCH_MOVES]++;
    return 1;
  }
  l->c[C_LATCH_DROPPED]++;
  return 0;
}

/* ---------- rtp-out-stream.ts ---------- */

static uint32_t timestamp_at(const out_t *o, double now, double clockRate) {
  if (o->at < 0) return o->ts;
  double elapsed = now - o->at;
  if (!(elapsed > 0)) return o->ts;
  /* Math.round of a positive number, then >>> 0 (modulo 2^32). */
  return (uint32_t)((uint64_t)o->ts + (uint64_t)floor((elapsed * clockRate) / 1000 + 0.5));
}

static inline uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void out_relay(out_t *o, double *switches, uint8_t *msg, int isEvent, double now, double clockRate) {
  uint16_t hseq = (uint16_t)((msg[2] << 8) | msg[3]);
  uint32_t hts = rd32(msg + 4), hssrc = rd32(msg + 8);
  if (!o->mapped || hssrc != o->sourceSsrc) {
    o->mapped = 1;
    o->sourceSsrc = hssrc;
    o->seqDelta = (uint16_t)(o->seq + 1 - hseq);
    o->tsDelta = timestamp_at(o, now, clockRate) - hts;
    (*switches)++;
    msg[1] |= 0x80;
  }
  uint16_t seq = (uint16_t)(hseq + o->seqDelta);
  uint32_t ts = hts + o->tsDelta;
  msg[2] = (uint8_t)(seq >> 8);
  msg[3] = (uint8_t)seq;
  wr32(msg + 4, ts);
  wr32(msg + 8, o->ssrc);
  uint16_t ahead = (uint16_t)(seq - o->seq);
  if (ahead != 0 && ahead < 0x8000) {
    o->seq = seq;
    if (!isEvent) {
      o->ts = ts;
      o->at = now;
    }
  }
}

static void out_relay_sender_report(const out_t *o, uint8_t *msg, size_t len) {
  if (!o->mapped || len < 28 || msg[1] != 200 || rd32(msg + 4) != o->sourceSsrc) return;
  wr32(msg + 4, o->ssrc);
  wr32(msg + 16, rd32(msg + 16) + o->tsDelta);
}

/* ---------- relay-leg.ts ---------- */

/* rtp-header.ts readRtpHeader: -1 when invalid, else the payload offset. */
static int rtp_valid(const uint8_t *b, size_t len) {
  if (len < 12 || (b[0] >> 6) != 2) return -1;
  size_t off = 12 + (size_t)(b[0] & 0x0f) * 4;
  if (off > len) return -1;
  if (b[0] & 0x10) {
    if (off + 4 > len) return -1;
    off += 4 + (size_t)((b[off + 2] << 8) | b[off + 3]) * 4;
    if (off > len) return -1;
  }
  if (b[0] & 0x20) {
    size_t pad = b[len - 1];
    if (pad == 0 || off + pad > len) return -1;
  }
  return (int)off;
}

static void flush_sends(inst_t *in) {
  int done = 0;
  while (done < in->nsend) {
    int r = sendmmsg(in->sendFd, in->smsg + done, (unsigned)(in->nsend - done), MSG_DONTWAIT);
    if (r > 0) {
      done += r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      /* Socket buffer full: the rest is lost (dgram would queue; a relay drops). */
      in->sendLeg->c[C_SOCKET_ERRORS] += in->nsend - done;
      break;
    } else {
      in->sendLeg->c[C_SOCKET_ERRORS]++;
      done++;
    }
  }
  in->nsend = 0;
}

static void queue_send(inst_t *in, leg_t *to, int fd, uint8_t *msg, size_t len, const addr_t *dst) {
  if (in->nsend > 0 && (in->sendFd != fd || in->nsend == BATCH)) flush_sends(in);
  struct mmsghdr *m = &in->smsg[in->nsend];
  in->siov[in->nsend].iov_base = msg;
  in->siov[in->nsend].iov_len = len;
  memset(&m->msg_hdr, 0, sizeof m->msg_hdr);
  m->msg_hdr.msg_name = (void *)&dst->sa;
  m->msg_hdr.msg_namelen = dst->len;
  m->msg_hdr.msg_iov = &in->siov[in->nsend];
  m->msg_hdr.msg_iovlen = 1;
  in->sendFd = fd;
  in->sendLeg = to;
  in->nsend++;
}

/* Called with the mutex held: a copy of an accepted telephone-event packet, before any rewrite. */
static void queue_event(inst_t *in, const leg_t *self, const uint8_t *msg, size_t len) {
  if (in->evCount >= MAX_EVENTS) return;
  event_t *e = malloc(sizeof *e + len);
  if (e == NULL) return;
  e->next = NULL;
  e->handle = self->handle;
  e->side = self->side;
  e->len = len;
  memcpy(e->data, msg, len);
  if (in->evTail == NULL) in->evHead = e;
  else in->evTail->next = e;
  in->evTail = e;
  in->evCount++;
}

/* receiveRtcp (muxed on the RTP port, or handed over from the JS RTCP socket). */
static void receive_rtcp(inst_t *in, leg_t *self, leg_t *to, uint8_t *msg, size_t len, const struct sockaddr_storage *from, double now) {
  double *s = self->c + C_RTCP;
  s[C_PACKETS_IN]++;
  s[C_BYTES_IN] += (double)len;
  /* rtcp-check.ts rtcpSenderSsrc */
  if (len < 8 || (msg[0] >> 6) != 2 || msg[1] < 192 || msg[1] > 223) {
    s[C_DROPPED_INVALID]++;
    return;
  }
  if (!latch_accept(&self->rtcp, from, rd32(msg + 4), now)) return;
  s[C_LAST_IN_AT] = now;
  out_relay_sender_report(&to->out, msg, len);
  /* transmitRtcp: the RTCP latch, else (mux) the RTP latch, else the SDP RTCP address. */
  const latch_t *l = &to->rtcp;
  if (!l->latched && to->rtcpMux) l = &to->rtp;
  const addr_t *dst = l->latched ? &l->addr : &to->remoteRtcp;
  queue_send(in, to, to->rtcpMux ? to->fd : to->rtcpFd, msg, len, dst);
  to->c[C_RTCP + C_PACKETS_OUT]++;
  to->c[C_RTCP + C_BYTES_OUT] += (double)len;
}

/* receiveRtp of an eligible leg: one pass edge, no inbound, no SRTP/ZRTP, sendrecv, remote and codec set. */
static void receive_rtp(inst_t *in, leg_t *self, leg_t *to, uint8_t *msg, size_t len, const struct sockaddr_storage *from, double now) {
  if (len >= 2 && msg[1] >= 192 && msg[1] <= 223) {
    receive_rtcp(in, self, to, msg, len, from, now);
    return;
  }
  double *s = self->c + C_RTP;
  s[C_PACKETS_IN]++;
  s[C_BYTES_IN] += (double)len;
  if (len == 0 || msg[0] < 0x40 || rtp_valid(msg, len) < 0) {
    s[C_DROPPED_INVALID]++;
    return;
  }
  if (!latch_accept(&self->rtp, from, rd32(msg + 8), now)) return;
  s[C_LAST_IN_AT] = now;
  int pt = msg[1] & 0x7f, isEvent = 0;
  if (pt == self->eventPt) isEvent = 1;
  else if (pt != self->codecPt) {
    self->c[C_UNKNOWN_PT]++;
    return;
  }
  if (isEvent && self->reportEvents) queue_event(in, self, msg, len);
  int newPt = isEvent ? self->eventPtOut : self->audioPtOut;
  if (newPt >= 0) msg[1] = (uint8_t)((msg[1] & 0x80) | newPt);
  out_relay(&to->out, &to->c[C_SWITCHES], msg, isEvent, now, to->clockRate);
  queue_send(in, to, to->fd, msg, len, to->rtp.latched ? &to->rtp.addr : &to->remoteRtp);
  to->c[C_RTP + C_PACKETS_OUT]++;
  to->c[C_RTP + C_BYTES_OUT] += (double)len;
}

/* One recvmmsg batch of one borrowed socket; called with the mutex held. */
static void drain(inst_t *in, pair_t *p, int side) {
  leg_t *self = &p->leg[side], *to = &p->leg[1 - side];
  int n = recvmmsg(self->fd, in->rmsg, BATCH, MSG_DONTWAIT, NULL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) self->c[C_SOCKET_ERRORS]++;
    return;
  }
  double now = monotonic_ms() + in->timeOffset;
  for (int i = 0; i < n; i++) {
    receive_rtp(in, self, to, in->riov[i].iov_base, in->rmsg[i].msg_len, &in->rfrom[i], now);
    in->rmsg[i].msg_hdr.msg_namelen = sizeof in->rfrom[i]; /* the kernel wrote the source's length */
  }
  if (in->nsend > 0) flush_sends(in);
}

/* ---------- thread ---------- */

#define EV_WAKE UINT64_MAX

static void *relay_thread(void *arg) {
  inst_t *in = arg;
  for (int i = 0; i < BATCH; i++) {
    in->riov[i].iov_base = in->rbuf + (size_t)i * BUF_SIZE;
    in->riov[i].iov_len = BUF_SIZE;
    memset(&in->rmsg[i].msg_hdr, 0, sizeof in->rmsg[i].msg_hdr);
    in->rmsg[i].msg_hdr.msg_name = &in->rfrom[i];
    in->rmsg[i].msg_hdr.msg_namelen = sizeof in->rfrom[i];
    in->rmsg[i].msg_hdr.msg_iov = &in->riov[i];
    in->rmsg[i].msg_hdr.msg_iovlen = 1;
  }
  in->tid = (int)syscall(SYS_gettid);
  struct epoll_event ev[256];
  while (!in->stop) {
    int n = epoll_wait(in->epfd, ev, 256, -1);
    for (int i = 0; i < n && !in->stop; i++) {
      uint64_t key = ev[i].data.u64;
      if (key == EV_WAKE) {
        uint64_t v;
        if (read(in->evfd, &v, sizeof v) < 0) { /* nothing to read */ }
        continue;
      }
      uint32_t slot = (uint32_t)(key >> 1) & 0x7fffffff, gen = (uint32_t)(key >> 32);
      pthread_mutex_lock(&in->mu);
      pair_t *p = slot < in->nslots ? in->slots[slot] : NULL;
      /* A stale event of a pair detached (and its slot reused) since epoll_wait returned. */
      if (p != NULL && p->gen == gen) drain(in, p, (int)(key & 1));
      pthread_mutex_unlock(&in->mu);
    }
  }
  return NULL;
}

static void stop_thread(inst_t *in) {
  if (!in->running) return;
  in->stop = 1;
  uint64_t one = 1;
  if (write(in->evfd, &one, sizeof one) < 0) { /* the thread still sees `stop` on its next wake */ }
  pthread_join(in->thread, NULL);
  in->running = 0;
  in->tid = -1;
}

static int start_thread(inst_t *in) {
  if (in->running) return 1;
  if (in->rbuf == NULL) in->rbuf = malloc((size_t)BATCH * BUF_SIZE);
  if (in->rbuf == NULL) return 0;
  in->stop = 0;
  if (pthread_create(&in->thread, NULL, relay_thread, in) != 0) return 0;
  in->running = 1;
  return 1;
}

/*
 * Our own duplicates of the legs' descriptors: Node may close its own (worker exit runs its
 * handle cleanup before our cleanup hook) without us ever touching a descriptor number that the
 * process has reused meanwhile; the sockets live until both are closed.
 */
static void pair_free(pair_t *p) {
  for (int side = 0; side < 2; side++) {
    if (p->leg[side].fd >= 0) close(p->leg[side].fd);
    if (p->leg[side].rtcpFd >= 0) close(p->leg[side].rtcpFd);
  }
  free(p);
}

static void cleanup(void *arg) {
  inst_t *in = arg;
  stop_thread(in);
  for (uint32_t i = 0; i < in->nslots; i++) {
    if (in->slots[i] != NULL) pair_free(in->slots[i]);
  }
  free(in->slots);
  free(in->rbuf);
  for (event_t *e = in->evHead, *next; e != NULL; e = next) {
    next = e->next;
    free(e);
  }
  close(in->epfd);
  close(in->evfd);
  pthread_mutex_destroy(&in->mu);
  free(in);
}

/* ---------- N-API ---------- */

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, "STROWGER_NATIVE_RELAY", #call " failed"); return NULL; } } while (0)

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, "STROWGER_NATIVE_RELAY", msg);
  return NULL;
}

static inst_t *instance(napi_env env) {
  inst_t *in = NULL;
  napi_get_instance_data(env, (void **)&in);
  return in;
}

/* The call's arguments into argv[want]; false (exception pending) when fewer were given. */
static int args(napi_env env, napi_callback_info info, napi_value *argv, size_t want) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_error(env, "STROWGER_NATIVE_RELAY", "missing arguments");
    return 0;
  }
  return 1;
}

/*
 * The bytes of typed array `v` when it is of `type` with at least `min` elements (its element
 * count in *length), else NULL with an exception pending.
 */
static void *typed(napi_env env, napi_value v, napi_typedarray_type type, size_t min, size_t *length) {
  napi_typedarray_type t;
  size_t n, offset;
  void *data;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &t, &n, &data, &ab, &offset) != napi_ok || t != type || n < min) {
    napi_throw_error(env, "STROWGER_NATIVE_RELAY", "a typed array of the wrong type or length");
    return NULL;
  }
  if (length != NULL) *length = n;
  return data;
}

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static void latch_import(latch_t *l, const double *s, int family, const char *addr, const char *sdp, double *c) {
  memset(l, 0, sizeof *l);
  l->latched = s[L_LATCHED] != 0;
  if (l->latched && !addr_parse(family, addr, (int)s[L_PORT], &l->addr)) l->latched = -1; /* refused below */
  l->ssrc = (uint32_t)s[L_SSRC];
  l->windowEndsAt = s[L_WINDOW_ENDS_AT];
  l->lastAt = s[L_LAST_AT];
  l->sdpValid = sdp[0] != 0 && addr_parse(family, sdp, (int)s[L_SDP_PORT], &l->sdp);
  l->windowMs = s[L_WINDOW_MS];
  l->relatchAfterMs = s[L_RELATCH_AFTER_MS];
  l->c = c;
}

static void latch_export(const latch_t *l, double *s) {
  s[L_LATCHED] = l->latched;
  s[L_PORT] = l->latched ? addr_port(&l->addr) : 0;
  s[L_SSRC] = l->ssrc;
  s[L_WINDOW_ENDS_AT] = l->windowEndsAt;
  s[L_LAST_AT] = l->lastAt;
}

static int socket_family(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
  return ss.ss_family;
}

/* Reads up to `size` bytes of the string element `i` of `arr` into `out`. */
static int string_at(napi_env env, napi_value arr, uint32_t i, char *out, size_t size) {
  napi_value v;
  size_t n;
  if (napi_get_element(env, arr, i, &v) != napi_ok) return 0;
  return napi_get_value_string_utf8(env, v, out, size, &n) == napi_ok;
}

/*
 * attach(state: Float64Array(2 * STATE_SIZE), addresses: string[2 * ADDRS], counters: ArrayBuffer(2 * COUNTERS * 8), timeOffset)
 * -> handle (number). Throws when a value cannot be taken over (then JS keeps the pair).
 */
static napi_value js_attach(napi_env env, napi_callback_info info) {
  inst_t *in = instance(env);
  napi_value argv[4];
  if (!args(env, info, argv, 4)) return NULL;
  const double *state = typed(env, argv[0], napi_float64_array, 2 * STATE_SIZE, NULL);
  if (state == NULL) return NULL;
  void *cdata;
  size_t clen;
  CHECK(napi_get_arraybuffer_info(env, argv[2], &cdata, &clen));
  if (clen < 2 * COUNTERS * sizeof(double)) return throw_msg(env, "attach: counters buffer is too short");
  double timeOffset;
  CHECK(napi_get_value_double(env, argv[3], &timeOffset));

  pair_t *p = calloc(1, sizeof *p);
  if (p == NULL) return throw_msg(env, "attach: out of memory");
  for (int side = 0; side < 2; side++) p->leg[side].fd = p->leg[side].rtcpFd = -1;
  for (int side = 0; side < 2; side++) {
    const double *s = state + side * STATE_SIZE;
    leg_t *l = &p->leg[side];
    char addr[ADDRS][INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    for (uint32_t k = 0; k < ADDRS; k++) {
      if (!string_at(env, argv[1], (uint32_t)side * ADDRS + k, addr[k], sizeof addr[k])) {
        pair_free(p);
        return throw_msg(env, "attach: addresses must be strings");
      }
    }
    l->c = (double *)cdata + side * COUNTERS;
    l->fd = fcntl((int)s[S_FD], F_DUPFD_CLOEXEC, 0);
    l->rtcpFd = fcntl((int)s[S_RTCP_FD], F_DUPFD_CLOEXEC, 0);
    l->family = l->rtcpFd < 0 ? -1 : socket_family(l->fd);
    if (l->family != AF_INET && l->family != AF_INET6) {
      pair_free(p);
      return throw_msg(env, "attach: not a UDP/IP socket");
    }
    l->rtcpMux = s[S_RTCP_MUX] != 0;
    l->codecPt = (int)s[S_CODEC_PT];
    l->eventPt = (int)s[S_EVENT_PT];
    l->audioPtOut = (int)s[S_AUDIO_PT_OUT];
    l->eventPtOut = (int)s[S_EVENT_PT_OUT];
    l->clockRate = s[S_CLOCK_RATE];
    l->reportEvents = s[S_REPORT_EVENTS] != 0;
    l->side = side;
    latch_import(&l->rtp, s + S_RTP_LATCH, l->family, addr[A_RTP_LATCH], addr[A_RTP_SDP], l->c + C_RTP);
    latch_import(&l->rtcp, s + S_RTCP_LATCH, l->family, addr[A_RTCP_LATCH], addr[A_RTCP_SDP], l->c + C_RTCP);
    const double *o = s + S_OUT;
    l->out.ssrc = (uint32_t)o[O_SSRC];
    l->out.seq = (uint16_t)o[O_SEQ];
    l->out.ts = (uint32_t)o[O_TS];
    l->out.at = o[O_AT];
    l->out.mapped = o[O_MAPPED] != 0;
    l->out.sourceSsrc = (uint32_t)o[O_SOURCE_SSRC];
    l->out.seqDelta = (uint16_t)o[O_SEQ_DELTA];
    l->out.tsDelta = (uint32_t)o[O_TS_DELTA];
    if (!addr_parse(l->family, addr[A_REMOTE], (int)s[S_REMOTE_RTP_PORT], &l->remoteRtp) ||
        !addr_parse(l->family, addr[A_REMOTE], (int)s[S_REMOTE_RTCP_PORT], &l->remoteRtcp) ||
        l->rtp.latched < 0 || l->rtcp.latched < 0) {
      pair_free(p);
      return throw_msg(env, "attach: an address is not an IP literal of the socket's family");
    }
  }
  CHECK(napi_create_reference(env, argv[2], 1, &p->counters));

  pthread_mutex_lock(&in->mu);
  uint32_t slot = 0;
  while (slot < in->nslots && in->slots[slot] != NULL) slot++;
  if (slot == in->nslots) {
    uint32_t grown = in->nslots == 0 ? 16 : in->nslots * 2;
    pair_t **s = realloc(in->slots, grown * sizeof *s);
    if (s == NULL) {
      pthread_mutex_unlock(&in->mu);
      napi_delete_reference(env, p->counters);
      pair_free(p);
      return throw_msg(env, "attach: out of memory");
    }
    memset(s + in->nslots, 0, (grown - in->nslots) * sizeof *s);
    in->slots = s;
    in->nslots = grown;
  }
  p->gen = ++in->gen & 0x7fffffff;
  p->leg[0].handle = p->leg[1].handle = (double)(((uint64_t)p->gen << 20) | slot);
  in->slots[slot] = p;
  in->timeOffset = timeOffset;
  int ok = 1;
  for (int side = 0; side < 2 && ok; side++) {
    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.u64 = ((uint64_t)p->gen << 32) | ((uint64_t)slot << 1) | (uint64_t)side;
    if (epoll_ctl(in->epfd, EPOLL_CTL_ADD, p->leg[side].fd, &ev) != 0) {
      ok = 0;
      if (side == 1) epoll_ctl(in->epfd, EPOLL_CTL_DEL, p->leg[0].fd, NULL);
    }
  }
  if (ok) {
    in->attached++;
    ok = start_thread(in);
    if (!ok) {
      in->attached--;
      epoll_ctl(in->epfd, EPOLL_CTL_DEL, p->leg[0].fd, NULL);
      epoll_ctl(in->epfd, EPOLL_CTL_DEL, p->leg[1].fd, NULL);
    }
  }
  if (!ok) in->slots[slot] = NULL;
  pthread_mutex_unlock(&in->mu);
  if (!ok) {
    napi_delete_reference(env, p->counters);
    pair_free(p);
    return throw_msg(env, "attach: epoll/thread set-up failed");
  }
  return num(env, p->leg[0].handle);
}

static pair_t *pair_of(inst_t *in, double handle, uint32_t *slotOut) {
  uint64_t h = (uint64_t)handle;
  uint32_t slot = (uint32_t)(h & 0xfffff), gen = (uint32_t)(h >> 20);
  if (slot >= in->nslots || in->slots[slot] == NULL || in->slots[slot]->gen != gen) return NULL;
  *slotOut = slot;
  return in->slots[slot];
}

/* Writes the latches and out streams into `state`, returns the latch addresses [rtpA, rtcpA, rtpB, rtcpB]. */
static napi_value export_state(napi_env env, pair_t *p, double *state) {
  napi_value arr;
  napi_create_array_with_length(env, 4, &arr);
  for (int side = 0; side < 2; side++) {
    leg_t *l = &p->leg[side];
    double *s = state + side * STATE_SIZE;
    latch_export(&l->rtp, s + S_RTP_LATCH);
    latch_export(&l->rtcp, s + S_RTCP_LATCH);
    double *o = s + S_OUT;
    o[O_SSRC] = l->out.ssrc;
    o[O_SEQ] = l->out.seq;
    o[O_TS] = l->out.ts;
    o[O_AT] = l->out.at;
    o[O_MAPPED] = l->out.mapped;
    o[O_SOURCE_SSRC] = l->out.sourceSsrc;
    o[O_SEQ_DELTA] = l->out.seqDelta;
    o[O_TS_DELTA] = l->out.tsDelta;
    const latch_t *latches[2] = { &l->rtp, &l->rtcp };
    for (int k = 0; k < 2; k++) {
      char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = "";
      if (latches[k]->latched) addr_text(&latches[k]->addr, text, sizeof text);
      napi_value v;
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
      napi_set_element(env, arr, (uint32_t)(side * 2 + k), v);
    }
  }
  return arr;
}

/* Shared by detach (remove = true) and peek: (handle, state: Float64Array) -> latch addresses. */
static napi_value take(napi_env env, napi_callback_info info, int remove) {
  inst_t *in = instance(env);
  napi_value argv[2];
  if (!args(env, info, argv, 2)) return NULL;
  double handle;
  CHECK(napi_get_value_double(env, argv[0], &handle));
  double *data = typed(env, argv[1], napi_float64_array, 2 * STATE_SIZE, NULL);
  if (data == NULL) return NULL;
  pthread_mutex_lock(&in->mu);
  uint32_t slot;
  pair_t *p = pair_of(in, handle, &slot);
  if (p == NULL) {
    pthread_mutex_unlock(&in->mu);
    return throw_msg(env, "unknown handle");
  }
  if (remove) {
    epoll_ctl(in->epfd, EPOLL_CTL_DEL, p->leg[0].fd, NULL);
    epoll_ctl(in->epfd, EPOLL_CTL_DEL, p->leg[1].fd, NULL);
    in->slots[slot] = NULL;
    in->attached--;
  }
  napi_value result = export_state(env, p, data);
  int last = remove && in->attached == 0;
  pthread_mutex_unlock(&in->mu);
  if (remove) {
    napi_delete_reference(env, p->counters);
    pair_free(p);
  }
  if (last) stop_thread(in);
  return result;
}

static napi_value js_detach(napi_env env, napi_callback_info info) {
  return take(env, info, 1);
}

static napi_value js_peek(napi_env env, napi_callback_info info) {
  return take(env, info, 0);
}

/* rtcp(handle, side, buffer, address, port): RTCP that reached the (JS-owned) RTCP socket of an attached leg. */
static napi_value js_rtcp(napi_env env, napi_callback_info info) {
  inst_t *in = instance(env);
  napi_value argv[5];
  if (!args(env, info, argv, 5)) return NULL;
  double handle;
  int32_t side, port;
  CHECK(napi_get_value_double(env, argv[0], &handle));
  CHECK(napi_get_value_int32(env, argv[1], &side));
  size_t length;
  uint8_t *data = typed(env, argv[2], napi_uint8_array, 0, &length);
  if (data == NULL) return NULL;
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  size_t n;
  CHECK(napi_get_value_string_utf8(env, argv[3], text, sizeof text, &n));
  CHECK(napi_get_value_int32(env, argv[4], &port));
  pthread_mutex_lock(&in->mu);
  uint32_t slot;
  pair_t *p = pair_of(in, handle, &slot);
  if (p != NULL && (side == 0 || side == 1)) {
    addr_t from;
    /* An address that is not canonical text cannot be latched in JS either; it never matches. */
    if (!addr_parse(p->leg[side].family, text, port, &from)) from.sa.ss_family = AF_UNSPEC;
    receive_rtcp(in, &p->leg[side], &p->leg[1 - side], data, length, &from.sa, monotonic_ms() + in->timeOffset);
    if (in->nsend > 0) flush_sends(in);
  }
  pthread_mutex_unlock(&in->mu);
  return NULL;
}

/* events() -> [handle, side, Buffer, ...] of the telephone-event packets queued since the last call, or undefined. */
static napi_value js_events(napi_env env, napi_callback_info info) {
  (void)info;
  inst_t *in = instance(env);
  pthread_mutex_lock(&in->mu);
  event_t *e = in->evHead;
  uint32_t count = in->evCount;
  in->evHead = in->evTail = NULL;
  in->evCount = 0;
  pthread_mutex_unlock(&in->mu);
  if (e == NULL) return NULL;
  napi_value arr;
  napi_create_array_with_length(env, count * 3, &arr);
  for (uint32_t i = 0; e != NULL; i += 3) {
    event_t *next = e->next;
    napi_value buf;
    void *copy;
    napi_create_buffer_copy(env, e->len, e->data, &copy, &buf);
    napi_set_element(env, arr, i, num(env, e->handle));
    napi_set_element(env, arr, i + 1, num(env, e->side));
    napi_set_element(env, arr, i + 2, buf);
    free(e);
    e = next;
  }
  return arr;
}

static napi_value js_monotonic_ms(napi_env env, napi_callback_info info) {
  (void)info;
  return num(env, monotonic_ms());
}

/* Kernel thread id of the relay thread (its CPU is in /proc/self/task/<tid>/stat), -1 when not running. */
static napi_value js_thread_id(napi_env env, napi_callback_info info) {
  (void)info;
  inst_t *in = instance(env);
  return num(env, in->running ? in->tid : -1);
}

/*
 * dupFd(fd): a second descriptor (close-on-exec) for an open socket, or -errno. A registrar
 * shard's thread sends on the main thread's SIP UDP socket through its own libuv handle; with
 * its own descriptor, closing that handle (or the thread ending) leaves the main thread's open.
 */
static napi_value js_dup_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return num(env, -EBADF);
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return num(env, d < 0 ? -errno : d);
}

static napi_value js_layout(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "stateSize", num(env, STATE_SIZE));
  napi_set_named_property(env, o, "counters", num(env, COUNTERS));
  napi_set_named_property(env, o, "addresses", num(env, ADDRS));
  return o;
}

static void finalize_instance(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  (void)hint;
  /* Freed by the cleanup hook, which runs first and joins the thread. */
}

NAPI_MODULE_INIT() {
  inst_t *in = calloc(1, sizeof *in);
  if (in == NULL) return NULL;
  pthread_mutex_init(&in->mu, NULL);
  in->tid = -1;
  in->epfd = epoll_create1(EPOLL_CLOEXEC);
  in->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (in->epfd < 0 || in->evfd < 0) {
    napi_throw_error(env, "STROWGER_NATIVE_RELAY", "epoll/eventfd unavailable");
    return NULL;
  }
  struct epoll_event ev = { .events = EPOLLIN };
  ev.data.u64 = EV_WAKE;
  epoll_ctl(in->epfd, EPOLL_CTL_ADD, in->evfd, &ev);
  napi_set_instance_data(env, in, finalize_instance, NULL);
  napi_add_env_cleanup_hook(env, cleanup, in);
  napi_property_descriptor props[] = {
    { "attach", NULL, js_attach, NULL, NULL, NULL, napi_default, NULL },
    { "detach", NULL, js_detach, NULL, NULL, NULL, napi_default, NULL },
    { "peek", NULL, js_peek, NULL, NULL, NULL, napi_default, NULL },
    { "rtcp", NULL, js_rtcp, NULL, NULL, NULL, napi_default, NULL },
    { "events", NULL, js_events, NULL, NULL, NULL, napi_default, NULL },
    { "monotonicMs", NULL, js_monotonic_ms, NULL, NULL, NULL, napi_default, NULL },
    { "threadId", NULL, js_thread_id, NULL, NULL, NULL, napi_default, NULL },
    { "layout", NULL, js_layout, NULL, NULL, NULL, napi_default, NULL },
    { "dupFd", NULL, js_dup_fd, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
