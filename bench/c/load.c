// The bench's independent load generator: C and epoll, so no server under test shares code with
// the client that measures it. N connections each keep `depth` messages in flight (closed loop:
// each echo received sends the next message), and every byte that comes back is checked against
// what was sent on that connection. A server that loses, reorders or mixes bytes between
// connections fails the run (exit 3); one that stops echoing fails it too (exit 4).
//
// Usage: load --port P [--host 127.0.0.1] [--connections 50] [--size 128] [--depth 1]
//             [--warmup 1] [--seconds 5] [--check] [--seed 1]
// Prints `warm` when the measured window starts, then one JSON line: round trips, bytes,
// elapsed seconds and latency percentiles in microseconds. After the window it stops sending
// and waits until every message in flight has come back, so the check covers every byte.
//
// --check: message sizes are random in [1, size], each connection's depth random in [1, depth],
// and connections stop reading for random moments, so the server sees short sends, full socket
// buffers and (with a small pool) an empty buffer ring.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATTERN 65521u     // a prime, so connections' streams do not line up
#define MAX_MESSAGE 1048576u
#define READ_SIZE 65536u
#define MAX_DEPTH 64u
#define BUCKETS (64u * 64u)

struct conn {
  int fd;
  unsigned depth;
  uint64_t origin;               // where this connection's stream starts in the pattern
  uint64_t queued, sent, received;  // stream offsets: bytes to send so far, sent, echoed back
  uint64_t ends[MAX_DEPTH];      // stream offset where each message in flight ends
  uint64_t started[MAX_DEPTH];   // when it was queued (ns)
  unsigned first, count;         // the messages in flight, a ring over ends/started
  uint64_t stalled_until;        // --check: not reading before this time (ns)
  unsigned events;               // what epoll watches for it now
  int watched;                   // added to the epoll set
};

static unsigned char *pattern;  // PATTERN bytes, then MAX_MESSAGE more repeating them
static struct conn *conns;
static int ep;
static int sending = 1;
static int check;
static unsigned size = 128;
static uint64_t rng_state = 1;
static uint64_t round_trips, bytes_echoed, histogram[BUCKETS];

static void die(const char *what, int err) {
  fprintf(stderr, "load: %s: %s\n", what, strerror(err));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t rng(void) {  // xorshift64*
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ull;
}

// Log-linear buckets: values below 64 exact, above that 64 steps per power of two (~1.5 %).
static unsigned bucket_of(uint64_t v) {
  if (v < 64) return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v) - 5u;
  unsigned b = e * 64u + (unsigned)(v >> e);
  return b < BUCKETS ? b : BUCKETS - 1;
}

static uint64_t value_of(unsigned b) {
  if (b < 64) return b;
  unsigned e = b / 64u;
  return (uint64_t)(b - e * 64u) << e;
}

static double percentile(double p) {
  uint64_t total = 0;
  for (unsigned b = 0; b < BUCKETS; b++) total += histogram[b];
  if (total == 0) return 0;
  uint64_t rank = (uint64_t)(p * (double)(total - 1)), seen = 0;
  for (unsigned b = 0; b < BUCKETS; b++) {
    seen += histogram[b];
    if (seen > rank) return (double)value_of(b) / 1000.0;
  }
  return 0;
}

// Watches `events` (none while a stalled connection has nothing to send: it neither reads nor
// writes until run_until wakes it).
static void watch(struct conn *c, unsigned events) {
  if (c->watched && c->events == events) return;
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(ep, c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl", errno);
  c->watched = 1;
  c->events = events;
}

static const unsigned char *stream_at(const struct conn *c, uint64_t offset) {
  return pattern + (c->origin + offset) % PATTERN;
}

static void queue_message(struct conn *c) {
  unsigned len = check ? 1 + (unsigned)(rng() % size) : size;
  unsigned i = (c->first + c->count++) % MAX_DEPTH;
  c->queued += len;
  c->ends[i] = c->queued;
  c->started[i] = now_ns();
}

// Sends what is queued; returns -1 if the connection failed.
static int pump_out(struct conn *c) {
  while (c->sent < c->queued) {
    uint64_t left = c->queued - c->sent;
    size_t n = left > MAX_MESSAGE ? MAX_MESSAGE : (size_t)left;
    ssize_t w = send(c->fd, stream_at(c, c->sent), n, MSG_NOSIGNAL);
    if (w < 0) return errno == EAGAIN ? 0 : -1;
    c->sent += (uint64_t)w;
  }
  return 0;
}

static void fail_mismatch(struct conn *c, uint64_t offset) {
  fprintf(stderr, "load: byte %llu of connection %ld differs from what was sent\n", (unsigned long long)offset,
          (long)(c - conns));
  exit(3);
}

static int pump_in(struct conn *c, unsigned char *buf) {
  for (;;) {
    ssize_t r = recv(c->fd, buf, READ_SIZE, 0);
    if (r == 0) {
      fprintf(stderr, "load: the server closed connection %ld\n", (long)(c - conns));
      exit(4);
    }
    if (r < 0) return errno == EAGAIN ? 0 : -1;
    if ((uint64_t)r > c->sent - c->received) {
      fprintf(stderr, "load: connection %ld got more bytes back than it sent\n", (long)(c - conns));
      exit(3);
    }
    if (memcmp(buf, stream_at(c, c->received), (size_t)r) != 0) {
      for (ssize_t i = 0; i < r; i++)
        if (buf[i] != *stream_at(c, c->received + (uint64_t)i)) fail_mismatch(c, c->received + (uint64_t)i);
    }
    c->received += (uint64_t)r;
    uint64_t t = 0;
    while (c->count > 0 && c->received >= c->ends[c->first]) {
      if (t == 0) t = now_ns();
      histogram[bucket_of(t - c->started[c->first])]++;
      round_trips++;
      c->first = (c->first + 1) % MAX_DEPTH;
      c->count--;
      if (sending) queue_message(c);
    }
    bytes_echoed += (uint64_t)r;
    if ((size_t)r < READ_SIZE) return 0;
  }
}

static void service(struct conn *c, unsigned events, unsigned char *buf, uint64_t now) {
  if ((events & EPOLLIN) && pump_in(c, buf) < 0) die("recv", errno);
  if (pump_out(c) < 0) die("send", errno);
  unsigned want = c->sent < c->queued ? EPOLLOUT : 0;
  if (check && c->stalled_until == 0 && rng() % 64 == 0) c->stalled_until = now + rng() % 20000000u;
  if (c->stalled_until != 0 && now >= c->stalled_until) c->stalled_until = 0;
  if (c->stalled_until == 0) want |= EPOLLIN;
  watch(c, want);
}

static const char *option(int argc, char **argv, const char *name, const char *fallback) {
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

static int flag(int argc, char **argv, const char *name) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return 1;
  return 0;
}

static void run_until(uint64_t end, unsigned char *buf, unsigned connections) {
  struct epoll_event events[256];
  for (;;) {
    uint64_t now = now_ns();
    if (now >= end) return;
    int n = epoll_wait(ep, events, 256, check ? 1 : 100);
    if (n < 0 && errno != EINTR) die("epoll_wait", errno);
    now = now_ns();
    for (int i = 0; i < n; i++) service(events[i].data.ptr, events[i].events, buf, now);
    if (check) {
      // Stalled connections are not watched for input: wake them when their time is up.
      for (unsigned i = 0; i < connections; i++)
        if (conns[i].stalled_until != 0 && now >= conns[i].stalled_until) service(&conns[i], 0, buf, now);
    }
  }
}

int main(int argc, char **argv) {
  const char *host = option(argc, argv, "--host", "127.0.0.1");
  int port = atoi(option(argc, argv, "--port", "0"));
  unsigned connections = (unsigned)atoi(option(argc, argv, "--connections", "50"));
  size = (unsigned)atoi(option(argc, argv, "--size", "128"));
  unsigned depth = (unsigned)atoi(option(argc, argv, "--depth", "1"));
  double warmup = atof(option(argc, argv, "--warmup", "1"));
  double seconds = atof(option(argc, argv, "--seconds", "5"));
  check = flag(argc, argv, "--check");
  rng_state = (uint64_t)atoll(option(argc, argv, "--seed", "1")) * 0x9E3779B97F4A7C15ull | 1;
  if (port <= 0 || connections == 0 || size == 0 || size > MAX_MESSAGE || depth == 0 || depth > MAX_DEPTH) {
    fprintf(stderr, "usage: load --port P [--connections N] [--size 1..%u] [--depth 1..%u] [--warmup s] "
                    "[--seconds s] [--check] [--seed n]\n", MAX_MESSAGE, MAX_DEPTH);
    return 2;
  }
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  pattern = malloc(PATTERN + MAX_MESSAGE);
  conns = calloc(connections, sizeof(*conns));
  unsigned char *buf = malloc(READ_SIZE);
  if (pattern == NULL || conns == NULL || buf == NULL) die("malloc", ENOMEM);
  for (unsigned i = 0; i < PATTERN; i++) pattern[i] = (unsigned char)(rng() >> 56);
  for (unsigned i = 0; i < MAX_MESSAGE; i++) pattern[PATTERN + i] = pattern[i % PATTERN];

  ep = epoll_create1(EPOLL_CLOEXEC);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("--host", EINVAL);
  for (unsigned i = 0; i < connections; i++) {
    struct conn *c = &conns[i];
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket", errno);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) die("connect", errno);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) < 0) die("fcntl", errno);
    c->origin = rng() % PATTERN;
    c->depth = check ? 1 + (unsigned)(rng() % depth) : depth;
  }
  for (unsigned i = 0; i < connections; i++) {
    for (unsigned k = 0; k < conns[i].depth; k++) queue_message(&conns[i]);
    service(&conns[i], 0, buf, now_ns());
  }

  run_until(now_ns() + (uint64_t)(warmup * 1e9), buf, connections);
  round_trips = bytes_echoed = 0;
  memset(histogram, 0, sizeof(histogram));
  printf("warm\n");
  fflush(stdout);
  uint64_t start = now_ns();
  run_until(start + (uint64_t)(seconds * 1e9), buf, connections);
  double elapsed = (double)(now_ns() - start) / 1e9;
  uint64_t measured = round_trips, measured_bytes = bytes_echoed;
  double p50 = percentile(0.5), p99 = percentile(0.99), p999 = percentile(0.999);

  // Stop sending and collect every message still in flight: the check covers every byte.
  sending = 0;
  check = 0;
  for (unsigned i = 0; i < connections; i++) {
    conns[i].stalled_until = 0;
    service(&conns[i], 0, buf, now_ns());
  }
  uint64_t deadline = now_ns() + 10000000000ull;
  for (;;) {
    unsigned waiting = 0;
    for (unsigned i = 0; i < connections; i++) waiting += conns[i].count > 0;
    if (waiting == 0) break;
    if (now_ns() >= deadline) {
      fprintf(stderr, "load: %u connections still wait for their echo 10 s after sending stopped\n", waiting);
      return 4;
    }
    run_until(now_ns() + 10000000u, buf, connections);
  }
  printf("{\"roundTrips\":%llu,\"bytes\":%llu,\"elapsed\":%.6f,\"roundTripsPerSecond\":%.1f,"
         "\"megabytesPerSecond\":%.3f,\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f}\n",
         (unsigned long long)measured, (unsigned long long)measured_bytes, elapsed, (double)measured / elapsed,
         (double)measured_bytes / elapsed / 1e6, p50, p99, p999);
  return 0;
}
