// The io_uring ABI this loop uses, on top of the system's <linux/io_uring.h>.
//
// Debian 12 ships Linux 6.1 uapi headers while the machines run 6.18, so everything newer than
// 6.1 is defined here, with values checked against the kernel's include/uapi/linux/io_uring.h.
#pragma once

#include <linux/io_uring.h>

#include <cstdint>

namespace iolease {

// cqe->flags (6.12): more completions will use this buffer id (incremental buffer rings).
constexpr uint32_t kCqeFBufMore = 1U << 4;

// io_uring_buf_reg.flags (named `pad` in the 6.1 header).
constexpr uint16_t kPbufRingMmap = 1;  // 6.4
constexpr uint16_t kPbufRingInc = 2;   // 6.12

// sqe->ioprio for send/recv (6.10).
constexpr uint16_t kRecvSendBundle = 1U << 4;

// io_uring_params.features beyond 6.1.
constexpr uint32_t kFeatRecvSendBundle = 1U << 14;  // 6.10

// The 6.4+ layout of struct io_uring_buf_reg: `pad` became `flags`; 40 bytes either way.
struct BufReg {
  uint64_t ring_addr;
  uint32_t ring_entries;
  uint16_t bgid;
  uint16_t flags;
  uint64_t resv[3];
};
// A provided-buffer ring is an array of io_uring_buf whose entry 0 shares its last two bytes
// with the ring's tail. Address it by hand: in C++ the uapi header's __DECLARE_FLEX_ARRAY puts
// `bufs` after an empty struct member, 8 bytes off where the kernel reads it.
inline io_uring_buf* BufRingEntries(void* ring) { return static_cast<io_uring_buf*>(ring); }
inline uint16_t* BufRingTail(void* ring) { return reinterpret_cast<uint16_t*>(static_cast<char*>(ring) + 14); }

static_assert(sizeof(BufReg) == 40, "io_uring_buf_reg is 40 bytes");
static_assert(sizeof(io_uring_buf) == 16, "io_uring_buf is 16 bytes");
static_assert(sizeof(io_uring_sqe) == 64, "64-byte SQEs (no SQE128)");
static_assert(sizeof(io_uring_cqe) == 16, "16-byte CQEs (no CQE32)");

}  // namespace iolease
