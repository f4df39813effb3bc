// What the bench's two C echo servers share: options, the fd limit, the listening socket.
#ifndef IOLEASE_BENCH_SERVER_H
#define IOLEASE_BENCH_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

static inline void die(const char *what, int err) {
  fprintf(stderr, "%s: %s\n", what, strerror(err));
  exit(1);
}

// The value after `name` among the options that follow the port (argv[1]), or `fallback`.
static inline const char *option(int argc, char **argv, const char *name, const char *fallback) {
  for (int i = 2; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

// Raises the open-file limit to the hard limit, and returns it: thousands of connections.
static inline size_t raise_fd_limit(void) {
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur;
}

// A TCP socket listening on host:port (port 0: any free one), with `flags` such as SOCK_NONBLOCK;
// its port in `bound`.
static inline int listen_tcp(const char *host, const char *port, int flags, unsigned *bound) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  if (fd < 0) die("socket", errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("--host", EINVAL);
  if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) die("bind", errno);
  if (listen(fd, 4096) < 0) die("listen", errno);
  socklen_t len = sizeof(addr);
  getsockname(fd, (struct sockaddr *)&addr, &len);
  *bound = ntohs(addr.sin_port);
  return fd;
}

// The line the bench waits for (bench/lib/server.mjs).
static inline void announce(const char *host, unsigned port) {
  printf("listening on %s:%u\n", host, port);
  fflush(stdout);
}

#endif
