// One io_uring instance: setup with feature fallbacks, the mmapped queues, SQE allocation,
// submission and completion draining. Plain C++ with raw syscalls; no Node in sight.
#pragma once

#include <cstdint>
#include <string>

#include "faults.h"
#include "uring_abi.h"

namespace iolease {

struct RingOptions {
  uint32_t sq_entries = 2048;
  uint32_t cq_entries = 65536;  // generous: multishot receives must never overflow the CQ
};

class Ring {
 public:
  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring();

  // Returns 0, or -errno with `failed_call` naming what failed ("io_uring_setup", "mmap", ...).
  int Init(const RingOptions& options, std::string* failed_call);
  void Close();

  int fd() const { return fd_; }
  uint32_t setup_flags() const { return setup_flags_; }
  uint32_t features() const { return features_; }
  uint32_t sq_entries() const { return sq_entries_; }
  uint32_t cq_entries() const { return cq_entries_; }
  bool defer_taskrun() const { return (setup_flags_ & IORING_SETUP_DEFER_TASKRUN) != 0; }
  // Whether enters go through the thread's registered-ring table (IORING_REGISTER_RING_FDS).
  bool ring_registered() const { return enter_flags_ != 0; }

  // A zeroed SQE, or nullptr when the SQ is full (the caller submits and retries).
  io_uring_sqe* GetSqe();
  uint32_t Unsubmitted() const { return sqe_tail_ - submitted_tail_; }
  // Free SQ entries right now.
  uint32_t SqSpace() const { return sq_entries_ - (sqe_tail_ - __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE)); }

  // Submits what is queued; with `get_events`, also runs deferred completion work so that the
  // CQ holds everything that has completed. Returns SQEs submitted or -errno.
  int Enter(bool get_events);

  // Whether the kernel has completion work that only an enter with GETEVENTS will post
  // (IORING_SQ_TASKRUN, raised with IORING_SETUP_TASKRUN_FLAG).
  bool TaskrunPending() const;
  // Whether completions wait in the kernel's overflow list because the CQ was full
  // (IORING_SQ_CQ_OVERFLOW): only an enter with GETEVENTS moves them into the CQ, and no
  // eventfd signal announces them.
  bool CqOverflowPending() const;

  // The test build's fault schedule, consulted by Enter; not owned.
  void set_faults(FaultPlan* faults) { faults_ = faults; }

  // Turns the kernel's eventfd signals off or on (IORING_CQ_EVENTFD_DISABLED). Turning them on
  // is a full barrier: whatever the kernel queued while they were off shows in the flags read
  // after it (see Engine::Pump for what that does and does not guarantee).
  void SetEventfdSignals(bool on);

  // Completion access: Peek the CQEs available, then Advance past the ones consumed.
  uint32_t CqReady(uint32_t* head) const;
  const io_uring_cqe& CqeAt(uint32_t index) const { return cqes_[index & cq_mask_]; }
  void CqAdvance(uint32_t new_head);

  // io_uring_register(2) on this ring.
  int Register(unsigned opcode, const void* arg, unsigned nr_args);
  // Whether the kernel supports `opcode` (IORING_REGISTER_PROBE).
  bool SupportsOp(uint8_t opcode) const;

 private:
  int fd_ = -1;
  // What io_uring_enter is given: the ring's index in this thread's registered-ring table and
  // IORING_ENTER_REGISTERED_RING, or the fd and 0 where registering failed. Registered, an
  // enter skips the fd table lookup and its reference count, shared by every thread of the
  // process (Node has several).
  int enter_fd_ = -1;
  uint32_t enter_flags_ = 0;
  uint32_t setup_flags_ = 0;
  uint32_t features_ = 0;
  uint32_t sq_entries_ = 0;
  uint32_t cq_entries_ = 0;

  void* sq_ring_ = nullptr;
  size_t sq_ring_size_ = 0;
  void* cq_ring_ = nullptr;  // == sq_ring_ with IORING_FEAT_SINGLE_MMAP
  size_t cq_ring_size_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqes_size_ = 0;

  unsigned* sq_head_ = nullptr;
  unsigned* sq_tail_ = nullptr;
  unsigned* sq_flags_ = nullptr;
  unsigned sq_mask_ = 0;
  unsigned* cq_head_ = nullptr;
  unsigned* cq_tail_ = nullptr;
  unsigned* cq_flags_ = nullptr;  // written by this thread only; the kernel reads it
  unsigned cq_mask_ = 0;
  io_uring_cqe* cqes_ = nullptr;

  uint32_t sqe_tail_ = 0;        // SQEs handed out
  uint32_t submitted_tail_ = 0;  // SQEs published to the kernel
  uint8_t probe_ops_[256] = {};  // 1 where IO_URING_OP_SUPPORTED
  FaultPlan* faults_ = nullptr;
};

}  // namespace iolease
