/*
 * RTP load generator for the relay benchmark (bench/media-relay.ts builds it with gcc at run
 * time). One thread, K UDP sockets on 127.0.0.1; every millisecond it sends the packets due by
 * then with sendmmsg (one batch per socket) and drains every socket with recvmmsg, so ~1,500
 * relayed calls (300,000 packets/s in and out) cost it a fraction of a core: the relay under
 * test, not the generator, is what runs out.
 *
 * Packets: 172 octets (12-octet RTP header + 160 octets, a 20 ms PCMU frame). Stream s leaves
 * socket s % K for target port s, one packet every 20 ms, the streams spread evenly over the
 * period. Payload octets 0-3 carry the tag (run << 16 | s: a relay rewrites the RTP header, not
 * the payload), 4-11 the send time (CLOCK_REALTIME ns), the rest the octet s & 0xff. Received
 * packets are timestamped by the kernel (SO_TIMESTAMPNS), so the latency histogram is the time
 * from sendmmsg to the arrival in our socket, independent of how late we read it.
 *
 * Protocol (text lines): prints "ports P1 .. PK" once bound; reads
 *   "run RUN DURATION_MS DRAIN_MS N PORT0 .. PORT(N-1)"  -> prints one JSON line with the result
 *   "quit"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PACKET 172
#define PTIME_NS 20000000LL
#define BATCH 64
#define MAX_SOCKETS 64
#define BUCKET_NS 10000LL /* latency histogram: 10 µs buckets up to 1 s */
#define BUCKETS 100000

static int nsock;
static int fds[MAX_SOCKETS];
static uint64_t hist[BUCKETS + 1];

static int64_t clock_ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static double cpu_ms(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Receive side of one run. */
struct counts {
  uint32_t run;
  uint64_t received[2];
  uint64_t corrupt;
};

static uint8_t rxbuf[BATCH][2048];
static char rxctl[BATCH][64];

static int drain(int fd, struct counts *c) {
  struct mmsghdr m[BATCH];
  struct iovec iov[BATCH];
  int total = 0;
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = rxbuf[i];
      iov[i].iov_len = sizeof rxbuf[i];
      memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
      m[i].msg_hdr.msg_iov = &iov[i];
      m[i].msg_hdr.msg_iovlen = 1;
      m[i].msg_hdr.msg_control = rxctl[i];
      m[i].msg_hdr.msg_controllen = sizeof rxctl[i];
    }
    int n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return total;
    total += n;
    for (int i = 0; i < n; i++) {
      const uint8_t *p = rxbuf[i];
      unsigned len = m[i].msg_len;
      if (len < 24) continue;
      uint32_t tag = get32(p + 12);
      if (tag >> 16 != (c->run & 0xffff)) continue; /* a straggler of an earlier run */
      c->received[tag & 1]++;
      if (len != PACKET || p[PACKET - 1] != (tag & 0xff)) c->corrupt++;
      int64_t sent;
      memcpy(&sent, p + 16, 8);
      int64_t at = -1;
      for (struct cmsghdr *h = CMSG_FIRSTHDR(&m[i].msg_hdr); h != NULL; h = CMSG_NXTHDR(&m[i].msg_hdr, h)) {
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec t;
          memcpy(&t, CMSG_DATA(h), sizeof t);
          at = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
        }
      }
      if (at < 0) at = clock_ns(CLOCK_REALTIME);
      int64_t b = (at - sent) / BUCKET_NS;
      hist[b < 0 ? 0 : b > BUCKETS ? BUCKETS : b]++;
    }
    if (n < BATCH) return total;
  }
}

static double percentile(uint64_t count, double q) {
  uint64_t want = (uint64_t)(q * count), seen = 0;
  for (int i = 0; i <= BUCKETS; i++) {
    seen += hist[i];
    if (seen > want) return (i + 1) * BUCKET_NS / 1e6;
  }
  return BUCKETS * BUCKET_NS / 1e6;
}

static void run(uint32_t runId, int64_t durationMs, int64_t drainMs, int n, const int *ports) {
  struct counts c = {.run = runId};
  memset(hist, 0, sizeof hist);
  uint8_t *pkt = calloc((size_t)n, PACKET);
  struct sockaddr_in *to = calloc((size_t)n, sizeof *to);
  uint16_t *seq = calloc((size_t)n, sizeof *seq);
  for (int s = 0; s < n; s++) {
    uint8_t *p = pkt + (size_t)s * PACKET;
    memset(p, s & 0xff, PACKET);
    p[0] = 0x80;
    p[1] = 0; /* PCMU */
    put32(p + 8, runId << 16 | (uint32_t)s);
    put32(p + 12, runId << 16 | (uint32_t)s);
    to[s].sin_family = AF_INET;
    to[s].sin_port = htons((uint16_t)ports[s]);
    to[s].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  struct mmsghdr out[MAX_SOCKETS][BATCH];
  struct iovec outv[MAX_SOCKETS][BATCH];
  int queued[MAX_SOCKETS] = {0};
  uint64_t sent[2] = {0, 0}, sendErrors = 0;
  const int64_t total = durationMs * 1000000LL / PTIME_NS * n;
  double cpu0 = cpu_ms();
  int64_t start = clock_ns(CLOCK_MONOTONIC), done = 0, lateNs = 0;
  struct timespec wake;
  clock_gettime(CLOCK_MONOTONIC, &wake);
  for (;;) {
    int64_t now = clock_ns(CLOCK_MONOTONIC);
    int64_t elapsed = now - start;
    if (done >= total && elapsed >= durationMs * 1000000LL + drainMs * 1000000LL) break;
    int64_t due = elapsed * n / PTIME_NS;
    if (due > total) due = total;
    if (due > done) {
      /* how far behind its slot the oldest packet sent now is */
      int64_t late = elapsed - done * PTIME_NS / n;
      if (late > lateNs) lateNs = late;
    }
    int64_t wall = clock_ns(CLOCK_REALTIME);
    for (; done < due; done++) {
      int s = (int)(done % n), k = s % nsock;
      uint8_t *p = pkt + (size_t)s * PACKET;
      uint16_t q = ++seq[s];
      p[2] = q >> 8; p[3] = q;
      put32(p + 4, (uint32_t)q * 160u);
      memcpy(p + 16, &wall, 8);
      struct mmsghdr *m = &out[k][queued[k]];
      outv[k][queued[k]].iov_base = p;
      outv[k][queued[k]].iov_len = PACKET;
      memset(&m->msg_hdr, 0, sizeof m->msg_hdr);
      m->msg_hdr.msg_name = &to[s];
      m->msg_hdr.msg_namelen = sizeof to[s];
      m->msg_hdr.msg_iov = &outv[k][queued[k]];
      m->msg_hdr.msg_iovlen = 1;
      sent[s & 1]++;
      /* A stream's buffer is reused only after a whole period: a batch never holds it twice. */
      if (++queued[k] == BATCH || done + 1 == due) {
        for (int j = 0; j < nsock; j++) {
          int off = 0;
          while (off < queued[j]) {
            int r = sendmmsg(fds[j], out[j] + off, (unsigned)(queued[j] - off), 0);
            if (r < 0) {
              if (errno == EINTR) continue;
              sendErrors += (uint64_t)(queued[j] - off); /* e.g. ECONNREFUSED from an earlier ICMP: skip */
              break;
            }
            off += r;
          }
          queued[j] = 0;
        }
      }
    }
    for (int j = 0; j < nsock; j++) drain(fds[j], &c);
    wake.tv_nsec += 1000000;
    if (wake.tv_nsec >= 1000000000) { wake.tv_sec++; wake.tv_nsec -= 1000000000; }
    int64_t w = (int64_t)wake.tv_sec * 1000000000LL + wake.tv_nsec;
    if (w < clock_ns(CLOCK_MONOTONIC)) clock_gettime(CLOCK_MONOTONIC, &wake); /* fell behind: no catch-up burst of wakeups */
    else clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, NULL);
  }
  double elapsedMs = (double)(clock_ns(CLOCK_MONOTONIC) - start) / 1e6 - (double)drainMs;
  uint64_t got = c.received[0] + c.received[1];
  printf("{\"sent\":[%llu,%llu],\"received\":[%llu,%llu],\"corrupt\":%llu,\"sendErrors\":%llu,\"cpuMs\":%.1f,\"lateMs\":%.2f,\"elapsedMs\":%.1f,"
         "\"latencyMs\":{\"p50\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"max\":%.2f}}\n",
         (unsigned long long)sent[0], (unsigned long long)sent[1], (unsigned long long)c.received[0], (unsigned long long)c.received[1],
         (unsigned long long)c.corrupt, (unsigned long long)sendErrors, cpu_ms() - cpu0, lateNs / 1e6, elapsedMs,
         percentile(got, 0.5), percentile(got, 0.99), percentile(got, 0.999), percentile(got, got ? 1.0 - 1.0 / (double)got : 0));
  fflush(stdout);
  free(pkt);
  free(to);
  free(seq);
}

int main(int argc, char **argv) {
  nsock = argc > 1 ? atoi(argv[1]) : 8;
  if (nsock < 1 || nsock > MAX_SOCKETS) nsock = 8;
  int bufBytes = 8 << 20, on = 1;
  printf("ports");
  for (int i = 0; i < nsock; i++) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) { perror("socket"); return 1; }
    /* FORCE variants lift the rmem_max/wmem_max caps (we run as root); else the plain ones. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufBytes, sizeof bufBytes) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufBytes, sizeof bufBytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufBytes, sizeof bufBytes) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufBytes, sizeof bufBytes);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    fds[i] = fd;
    printf(" %d", ntohs(a.sin_port));
  }
  printf("\n");
  fflush(stdout);
  static char line[1 << 20];
  while (fgets(line, sizeof line, stdin) != NULL) {
    if (strncmp(line, "quit", 4) == 0) break;
    if (strncmp(line, "run ", 4) != 0) continue;
    char *p = line + 4, *e;
    uint32_t runId = (uint32_t)strtoul(p, &e, 10); p = e;
    int64_t durationMs = strtoll(p, &e, 10); p = e;
    int64_t drainMs = strtoll(p, &e, 10); p = e;
    int n = (int)strtol(p, &e, 10); p = e;
    if (n <= 0) { printf("{\"error\":\"no streams\"}\n"); fflush(stdout); continue; }
    int *ports = calloc((size_t)n, sizeof *ports);
    for (int i = 0; i < n; i++) { ports[i] = (int)strtol(p, &e, 10); p = e; }
    run(runId, durationMs, drainMs, n, ports);
    free(ports);
  }
  return 0;
}
