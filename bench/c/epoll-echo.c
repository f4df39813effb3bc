// The C epoll echo server: the readiness design every event loop before io_uring uses
// (libuv's included), without JavaScript. Level-triggered epoll, one receive buffer per
// connection, read then write straight back.
//
// Correct under pressure: a write the socket takes only part of keeps the rest, stops reading
// (so bytes stay in order and memory stays bounded) and waits for EPOLLOUT to resume.
//
// Usage: epoll-echo <port> [--size bytes (receive buffer per connection)] [--host 127.0.0.1]
// Prints `listening on host:port` once it accepts.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
  unsigned char *buf;
  unsigned pending, sent;  // bytes in buf not yet written back, and how many of them were
};

static struct conn *conns;
static unsigned size;
static int ep;

static void die(const char *what, int err) {
  fprintf(stderr, "%s: %s\n", what, strerror(err));
  exit(1);
}

static void drop(int fd) {
  free(conns[fd].buf);
  conns[fd].buf = NULL;
  close(fd);  // also removes it from the epoll set
}

static void watch(int fd, unsigned events, int op) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl", errno);
}

// Writes what is pending; 1 when all of it went, 0 when the socket is full, -1 on error.
static int flush(int fd) {
  struct conn *c = &conns[fd];
  while (c->sent < c->pending) {
    ssize_t n = send(fd, c->buf + c->sent, c->pending - c->sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->sent += (unsigned)n;
  }
  c->pending = c->sent = 0;
  return 1;
}

static void on_readable(int fd) {
  struct conn *c = &conns[fd];
  ssize_t n = recv(fd, c->buf, size, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN)) return drop(fd);
  if (n < 0) return;
  c->pending = (unsigned)n;
  c->sent = 0;
  int done = flush(fd);
  if (done < 0) return drop(fd);
  if (done == 0) watch(fd, EPOLLOUT, EPOLL_CTL_MOD);  // stop reading until the rest is out
}

static void on_writable(int fd) {
  int done = flush(fd);
  if (done < 0) return drop(fd);
  if (done == 1) watch(fd, EPOLLIN, EPOLL_CTL_MOD);
}

static void on_accept(int listen_fd) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    conns[fd].buf = malloc(size);
    if (conns[fd].buf == NULL) die("malloc", ENOMEM);
    conns[fd].pending = conns[fd].sent = 0;
    watch(fd, EPOLLIN, EPOLL_CTL_ADD);
  }
}

static const char *option(int argc, char **argv, const char *name, const char *fallback) {
  for (int i = 2; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <port> [--size bytes] [--host ip]\n", argv[0]);
    return 2;
  }
  size = (unsigned)strtoul(option(argc, argv, "--size", "65536"), NULL, 10);
  const char *host = option(argc, argv, "--host", "127.0.0.1");
  if (size == 0) {
    fprintf(stderr, "--size must be positive\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  conns = calloc(lim.rlim_cur, sizeof(*conns));
  if (conns == NULL) die("calloc", ENOMEM);

  int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("--host", EINVAL);
  if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) die("bind", errno);
  if (listen(listen_fd, 4096) < 0) die("listen", errno);
  socklen_t len = sizeof(addr);
  getsockname(listen_fd, (struct sockaddr *)&addr, &len);

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1", errno);
  watch(listen_fd, EPOLLIN, EPOLL_CTL_ADD);
  printf("listening on %s:%u\n", host, ntohs(addr.sin_port));
  fflush(stdout);

  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait", errno);
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == listen_fd) on_accept(listen_fd);
      else if (events[i].events & EPOLLOUT) on_writable(fd);
      else on_readable(fd);
    }
  }
}
