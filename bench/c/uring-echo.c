// The C io_uring echo server the iolease loop is measured against: the loop's design without
// JavaScript. One ring with deferred task work; a provided-buffer ring; multishot accept and
// multishot receive; every received buffer is sent back from where the kernel put it and given
// back to the ring when its send completes.
//
// Correct under pressure, or the comparison would flatter it:
// - one send in flight per connection, so bytes leave in the order they came;
// - a short send is resumed from where it stopped;
// - a receive that ends with ENOBUFS (the ring is empty) parks its connection; parked
//   connections are re-armed while the ring has buffers, oldest first, at the end of every
//   batch, so a returned buffer never sits free while a connection waits for one.
//
// Usage: uring-echo <port> [--buffers N (power of two)] [--size bytes] [--host 127.0.0.1]
// Prints `listening on host:port` once it accepts.
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

#include "ring.h"

enum op { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_CANCEL };

// user_data: op in the top byte, the connection's generation, then its fd.
static uint64_t encode(enum op op, unsigned gen, int fd) { return (uint64_t)op << 56 | (uint64_t)gen << 24 | (unsigned)fd; }
static enum op op_of(uint64_t ud) { return (enum op)(ud >> 56); }
static unsigned gen_of(uint64_t ud) { return (unsigned)(ud >> 24) & 0xffffffu; }
static int fd_of(uint64_t ud) { return (int)(ud & 0xffffffu); }

#define NONE 0xffffffffu

struct conn {
  unsigned gen;
  unsigned head, tail;  // queue of buffer ids waiting to be sent, linked through next[]
  unsigned sent;        // bytes of the head buffer already sent
  unsigned next_parked;
  unsigned char open, recv_armed, send_inflight, ended, parked, closing;
};

static struct ring ring;
static struct buf_ring bufs;
static struct conn *conns;
static unsigned *next_bid;  // per buffer: the next buffer in its connection's queue
static unsigned *length;    // per buffer: bytes the kernel put in it
static unsigned held;       // buffers out of the ring (queued for sending)
static unsigned parked_head = NONE, parked_tail = NONE;
static int listen_fd;

static void arm_recv(int fd) {
  struct io_uring_sqe *sqe = ring_sqe(&ring);
  sqe->opcode = IORING_OP_RECV;
  sqe->fd = fd;
  sqe->ioprio = IORING_RECV_MULTISHOT;
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = 0;
  sqe->user_data = encode(OP_RECV, conns[fd].gen, fd);
  conns[fd].recv_armed = 1;
}

static void arm_accept(void) {
  struct io_uring_sqe *sqe = ring_sqe(&ring);
  sqe->opcode = IORING_OP_ACCEPT;
  sqe->fd = listen_fd;
  sqe->ioprio = IORING_ACCEPT_MULTISHOT;
  sqe->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  sqe->user_data = encode(OP_ACCEPT, 0, listen_fd);
}

static void send_head(int fd) {
  struct conn *c = &conns[fd];
  struct io_uring_sqe *sqe = ring_sqe(&ring);
  sqe->opcode = IORING_OP_SEND;
  sqe->fd = fd;
  sqe->addr = (uint64_t)(uintptr_t)(buf_ring_data(&bufs, c->head) + c->sent);
  sqe->len = length[c->head] - c->sent;
  sqe->msg_flags = MSG_NOSIGNAL;
  sqe->user_data = encode(OP_SEND, c->gen, fd);
  c->send_inflight = 1;
}

static void give_back(unsigned bid) {
  buf_ring_return(&bufs, bid);
  held--;
}

static void park(int fd) {
  conns[fd].parked = 1;
  conns[fd].next_parked = NONE;
  if (parked_tail == NONE) parked_head = (unsigned)fd;
  else conns[parked_tail].next_parked = (unsigned)fd;
  parked_tail = (unsigned)fd;
}

// Closes once nothing of the connection is left in the kernel.
static void maybe_close(int fd) {
  struct conn *c = &conns[fd];
  if (c->recv_armed || c->send_inflight || c->parked) return;
  if (!c->closing && !(c->ended && c->head == NONE)) return;
  while (c->head != NONE) {
    unsigned bid = c->head;
    c->head = next_bid[bid];
    give_back(bid);
  }
  c->open = 0;
  close(fd);
}

static void fail(int fd) {
  struct conn *c = &conns[fd];
  c->closing = 1;
  if (c->recv_armed) {
    struct io_uring_sqe *sqe = ring_sqe(&ring);
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = -1;
    sqe->addr = encode(OP_RECV, c->gen, fd);
    sqe->user_data = encode(OP_CANCEL, c->gen, fd);
  }
  maybe_close(fd);
}

static void on_accept(int res, unsigned flags) {
  if (res >= 0) {
    int one = 1;
    setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct conn *c = &conns[res];
    unsigned gen = (c->gen + 1) & 0xffffffu;
    memset(c, 0, sizeof(*c));
    c->gen = gen;
    c->open = 1;
    c->head = c->tail = NONE;
    arm_recv(res);
  }
  if (!(flags & IORING_CQE_F_MORE)) arm_accept();
}

static void on_recv(int fd, int res, unsigned flags) {
  struct conn *c = &conns[fd];
  if (flags & IORING_CQE_F_BUFFER) {
    unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
    held++;
    if (res <= 0 || c->closing) {
      give_back(bid);
    } else {
      length[bid] = (unsigned)res;
      next_bid[bid] = NONE;
      if (c->head == NONE) c->head = bid;
      else next_bid[c->tail] = bid;
      c->tail = bid;
      if (!c->send_inflight) send_head(fd);
    }
  }
  if (flags & IORING_CQE_F_MORE) return;
  c->recv_armed = 0;
  if (c->closing) return maybe_close(fd);
  if (res == -ENOBUFS) return park(fd);
  if (res > 0) return arm_recv(fd);  // a multishot receive may end with data (a full CQ)
  if (res == 0) c->ended = 1;
  else c->closing = 1;
  maybe_close(fd);
}

static void on_send(int fd, int res) {
  struct conn *c = &conns[fd];
  c->send_inflight = 0;
  if (res < 0) return fail(fd);
  c->sent += (unsigned)res;
  if (c->sent == length[c->head]) {
    unsigned bid = c->head;
    c->head = next_bid[bid];
    if (c->head == NONE) c->tail = NONE;
    c->sent = 0;
    give_back(bid);
  }
  if (c->closing) return maybe_close(fd);
  if (c->head != NONE) send_head(fd);
  else maybe_close(fd);
}

// Re-arms parked connections while the ring has buffers for them.
static void unpark(void) {
  unsigned room = bufs.count - held;
  while (parked_head != NONE && (room > 0 || conns[parked_head].closing)) {
    int fd = (int)parked_head;
    parked_head = conns[fd].next_parked;
    if (parked_head == NONE) parked_tail = NONE;
    conns[fd].parked = 0;
    if (conns[fd].closing) {
      maybe_close(fd);
      continue;
    }
    arm_recv(fd);
    room--;
  }
}

static void handle(const struct io_uring_cqe *cqe) {
  enum op op = op_of(cqe->user_data);
  int fd = fd_of(cqe->user_data);
  if (op == OP_ACCEPT) return on_accept(cqe->res, cqe->flags);
  if (op == OP_CANCEL) return;
  struct conn *c = &conns[fd];
  if (!c->open || c->gen != gen_of(cqe->user_data)) {
    // Cannot happen while connections close only when idle; kept so a mistake shows up.
    fprintf(stderr, "stale completion op %d fd %d\n", op, fd);
    abort();
  }
  if (op == OP_RECV) on_recv(fd, cqe->res, cqe->flags);
  else if (op == OP_SEND) on_send(fd, cqe->res);
}

static unsigned number(int argc, char **argv, const char *name, const char *fallback) {
  return (unsigned)strtoul(option(argc, argv, name, fallback), NULL, 10);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <port> [--buffers N] [--size bytes] [--host ip]\n", argv[0]);
    return 2;
  }
  unsigned count = number(argc, argv, "--buffers", "2048");
  unsigned size = number(argc, argv, "--size", "2048");
  const char *host = option(argc, argv, "--host", "127.0.0.1");
  if (count == 0 || (count & (count - 1)) != 0 || count > 32768 || size == 0) {
    fprintf(stderr, "--buffers must be a power of two up to 32768, --size positive\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  conns = calloc(raise_fd_limit(), sizeof(*conns));
  next_bid = calloc(count, sizeof(*next_bid));
  length = calloc(count, sizeof(*length));
  if (conns == NULL || next_bid == NULL || length == NULL) die("calloc", ENOMEM);
  unsigned port;
  listen_fd = listen_tcp(host, argv[1], 0, &port);

  ring_init(&ring, 2048, 65536);
  buf_ring_init(&ring, &bufs, 0, count, size);
  arm_accept();
  announce(host, port);

  for (;;) {
    int ret = ring_enter(&ring, 1);
    if (ret < 0 && ret != -EAGAIN && ret != -EBUSY && ret != -ETIME) die("io_uring_enter", -ret);
    unsigned head = *ring.cq_head;
    unsigned tail = __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE);
    for (; head != tail; head++) handle(&ring.cqes[head & ring.cq_mask]);
    __atomic_store_n(ring.cq_head, head, __ATOMIC_RELEASE);
    unpark();
  }
}
