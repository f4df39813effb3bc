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
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"

struct conn {
  unsigned char *buf;
  unsigned pending, sent;  // bytes in buf not yet written back, and how many of them were
};

static struct conn *conns;
static unsigned size;
static int ep;

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
  conns = calloc(raise_fd_limit(), sizeof(*conns));
  if (conns == NULL) die("calloc", ENOMEM);
  unsigned port;
  int listen_fd = listen_tcp(host, argv[1], SOCK_NONBLOCK, &port);

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1", errno);
  watch(listen_fd, EPOLLIN, EPOLL_CTL_ADD);
  announce(host, port);

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
