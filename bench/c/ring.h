// A minimal io_uring wrapper for the C reference server: raw syscalls and the mmapped queues,
// so the bench needs no liburing (Debian 12 has no liburing-dev by default). Header-only, one
// ring per process. Names follow liburing's where they mean the same thing.
#ifndef IOLEASE_BENCH_RING_H
#define IOLEASE_BENCH_RING_H

#include <errno.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server.h"

struct ring {
  int fd;
  unsigned sq_entries, cq_entries;
  unsigned *sq_head, *sq_tail, *sq_flags, sq_mask;
  unsigned *cq_head, *cq_tail, cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  unsigned sqe_tail;      /* SQEs handed out */
  unsigned submitted;     /* SQEs published to the kernel */
};

static inline void *ring_at(void *base, unsigned offset) { return (char *)base + offset; }

/* Sets the ring up the way the iolease loop does: one issuer, deferred task work, a CQ large
 * enough that multishot receives do not overflow it. */
static inline void ring_init(struct ring *r, unsigned entries, unsigned cq_entries) {
  struct io_uring_params p;
  memset(&p, 0, sizeof(p));
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  p.cq_entries = cq_entries;
  int fd = (int)syscall(__NR_io_uring_setup, entries, &p);
  if (fd < 0) die("io_uring_setup", errno);
  if (!(p.features & IORING_FEAT_SINGLE_MMAP)) die("io_uring: no single mmap", EOPNOTSUPP);
  size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  size_t size = sq_size > cq_size ? sq_size : cq_size;
  void *q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (q == MAP_FAILED) die("mmap", errno);
  void *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) die("mmap", errno);
  r->fd = fd;
  r->sq_entries = p.sq_entries;
  r->cq_entries = p.cq_entries;
  r->sq_head = ring_at(q, p.sq_off.head);
  r->sq_tail = ring_at(q, p.sq_off.tail);
  r->sq_flags = ring_at(q, p.sq_off.flags);
  r->sq_mask = *(unsigned *)ring_at(q, p.sq_off.ring_mask);
  unsigned *array = ring_at(q, p.sq_off.array);
  for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;
  r->cq_head = ring_at(q, p.cq_off.head);
  r->cq_tail = ring_at(q, p.cq_off.tail);
  r->cq_mask = *(unsigned *)ring_at(q, p.cq_off.ring_mask);
  r->cqes = ring_at(q, p.cq_off.cqes);
  r->sqes = sqes;
  r->sqe_tail = r->submitted = *r->sq_tail;
}

static inline int ring_enter(struct ring *r, unsigned min_complete) {
  unsigned to_submit = r->sqe_tail - r->submitted;
  __atomic_store_n(r->sq_tail, r->sqe_tail, __ATOMIC_RELEASE);
  for (;;) {
    int ret = (int)syscall(__NR_io_uring_enter, r->fd, to_submit, min_complete, IORING_ENTER_GETEVENTS, NULL, 0);
    if (ret >= 0) {
      r->submitted += (unsigned)ret;
      return ret;
    }
    if (errno == EINTR) continue;
    return -errno;
  }
}

/* A zeroed SQE; submits what is queued when the SQ is full. */
static inline struct io_uring_sqe *ring_sqe(struct ring *r) {
  while (r->sqe_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) >= r->sq_entries) {
    int ret = ring_enter(r, 0);
    if (ret < 0 && ret != -EAGAIN && ret != -EBUSY) die("io_uring_enter", -ret);
  }
  struct io_uring_sqe *sqe = &r->sqes[r->sqe_tail++ & r->sq_mask];
  memset(sqe, 0, sizeof(*sqe));
  return sqe;
}

/* A provided-buffer ring of `count` buffers of `size` bytes, registered as group `group`. */
struct buf_ring {
  struct io_uring_buf_ring *br;
  unsigned char *memory;
  unsigned count, size, mask;
  unsigned short tail;
};

static inline void buf_ring_init(struct ring *r, struct buf_ring *b, unsigned group, unsigned count, unsigned size) {
  b->count = count;
  b->size = size;
  b->mask = count - 1;
  b->br = mmap(NULL, count * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  b->memory = mmap(NULL, (size_t)count * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b->br == MAP_FAILED || b->memory == MAP_FAILED) die("mmap", errno);
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof(reg));
  reg.ring_addr = (uint64_t)(uintptr_t)b->br;
  reg.ring_entries = count;
  reg.bgid = (unsigned short)group;
  if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
    die("io_uring_register(PBUF_RING)", errno);
  b->tail = 0;
  for (unsigned bid = 0; bid < count; bid++) {
    struct io_uring_buf *e = &b->br->bufs[b->tail++ & b->mask];
    e->addr = (uint64_t)(uintptr_t)(b->memory + (size_t)bid * size);
    e->len = size;
    e->bid = (unsigned short)bid;
  }
  __atomic_store_n(&b->br->tail, b->tail, __ATOMIC_RELEASE);
}

static inline unsigned char *buf_ring_data(struct buf_ring *b, unsigned bid) { return b->memory + (size_t)bid * b->size; }

/* Gives buffer `bid` back to the kernel. */
static inline void buf_ring_return(struct buf_ring *b, unsigned bid) {
  struct io_uring_buf *e = &b->br->bufs[b->tail++ & b->mask];
  e->addr = (uint64_t)(uintptr_t)buf_ring_data(b, bid);
  e->len = b->size;
  e->bid = (unsigned short)bid;
  __atomic_store_n(&b->br->tail, b->tail, __ATOMIC_RELEASE);
}

#endif
