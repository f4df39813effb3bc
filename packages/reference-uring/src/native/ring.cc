#include "ring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

namespace iolease {
namespace {

int SysSetup(uint32_t entries, io_uring_params* p) {
  return static_cast<int>(syscall(__NR_io_uring_setup, entries, p));
}

int SysEnter(int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags) {
  // fd is a registered-ring index when flags has IORING_ENTER_REGISTERED_RING.
  return static_cast<int>(syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, nullptr, 0));
}

template <typename T>
T LoadAcquire(const T* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

template <typename T>
void StoreRelease(T* p, T v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

template <typename T>
T* At(void* base, uint32_t offset) {
  return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

// Preferred flags first; each fallback drops what an older kernel rejects with EINVAL.
// DEFER_TASKRUN needs SINGLE_ISSUER (6.1); both are what the io_uring maintainer recommends for
// one ring per thread. The loop's pump works with or without them.
constexpr uint32_t kFlagSets[] = {
    IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
    IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
    IORING_SETUP_CQSIZE,
};

}  // namespace

Ring::~Ring() { Close(); }

int Ring::Init(const RingOptions& options, std::string* failed_call) {
  io_uring_params p;
  int fd = -EINVAL;
  for (uint32_t flags : kFlagSets) {
    memset(&p, 0, sizeof(p));
    p.flags = flags;
    p.cq_entries = options.cq_entries;
    fd = SysSetup(options.sq_entries, &p);
    if (fd >= 0) break;
    fd = -errno;
    if (fd != -EINVAL) break;  // ENOSYS, EPERM, ENOMEM...: no fallback helps
  }
  if (fd < 0) {
    *failed_call = "io_uring_setup";
    return fd;
  }
  fd_ = fd;
  setup_flags_ = p.flags;
  features_ = p.features;
  sq_entries_ = p.sq_entries;
  cq_entries_ = p.cq_entries;

  sq_ring_size_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  cq_ring_size_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  const bool single_mmap = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single_mmap) sq_ring_size_ = cq_ring_size_ = std::max(sq_ring_size_, cq_ring_size_);

  sq_ring_ = mmap(nullptr, sq_ring_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQ_RING);
  if (sq_ring_ == MAP_FAILED) {
    sq_ring_ = nullptr;
    *failed_call = "mmap";
    int err = -errno;
    Close();
    return err;
  }
  if (single_mmap) {
    cq_ring_ = sq_ring_;
  } else {
    cq_ring_ = mmap(nullptr, cq_ring_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_CQ_RING);
    if (cq_ring_ == MAP_FAILED) {
      cq_ring_ = nullptr;
      *failed_call = "mmap";
      int err = -errno;
      Close();
      return err;
    }
  }
  sqes_size_ = p.sq_entries * sizeof(io_uring_sqe);
  void* sqes = mmap(nullptr, sqes_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) {
    *failed_call = "mmap";
    int err = -errno;
    Close();
    return err;
  }
  sqes_ = static_cast<io_uring_sqe*>(sqes);

  sq_head_ = At<unsigned>(sq_ring_, p.sq_off.head);
  sq_tail_ = At<unsigned>(sq_ring_, p.sq_off.tail);
  sq_flags_ = At<unsigned>(sq_ring_, p.sq_off.flags);
  sq_mask_ = *At<unsigned>(sq_ring_, p.sq_off.ring_mask);
  unsigned* array = At<unsigned>(sq_ring_, p.sq_off.array);
  // The indirection array is identity-mapped once, so SQE slot i is always array entry i.
  for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;
  cq_head_ = At<unsigned>(cq_ring_, p.cq_off.head);
  cq_tail_ = At<unsigned>(cq_ring_, p.cq_off.tail);
  cq_flags_ = At<unsigned>(cq_ring_, p.cq_off.flags);
  cq_mask_ = *At<unsigned>(cq_ring_, p.cq_off.ring_mask);
  cqes_ = At<io_uring_cqe>(cq_ring_, p.cq_off.cqes);
  sqe_tail_ = submitted_tail_ = *sq_tail_;

  // Register the ring in this thread's table (5.18+, 16 slots per thread). The table belongs
  // to the thread, which is also the only one that may enter (SINGLE_ISSUER); where the table
  // is full or the kernel older, enters use the fd.
  enter_fd_ = fd_;
  io_uring_rsrc_update slot = {};
  slot.offset = ~0U;  // any free slot
  slot.data = static_cast<uint64_t>(fd_);
  if (Register(IORING_REGISTER_RING_FDS, &slot, 1) == 1) {
    enter_fd_ = static_cast<int>(slot.offset);
    enter_flags_ = IORING_ENTER_REGISTERED_RING;
  }

  // Probe which opcodes exist, for the feature report and clear errors on old kernels.
  const size_t probe_size = sizeof(io_uring_probe) + 256 * sizeof(io_uring_probe_op);
  auto* probe = static_cast<io_uring_probe*>(calloc(1, probe_size));
  if (probe != nullptr) {
    if (Register(IORING_REGISTER_PROBE, probe, 256) == 0) {
      for (unsigned i = 0; i < probe->ops_len && i < 256; i++) {
        if (probe->ops[i].flags & IO_URING_OP_SUPPORTED) probe_ops_[probe->ops[i].op] = 1;
      }
    }
    free(probe);
  }
  return 0;
}

void Ring::Close() {
  if (enter_flags_ != 0) {
    // The table holds a reference to the ring: left there, the ring would outlive its fd until
    // the thread exits.
    io_uring_rsrc_update slot = {};
    slot.offset = static_cast<uint32_t>(enter_fd_);
    Register(IORING_UNREGISTER_RING_FDS, &slot, 1);
    enter_flags_ = 0;
  }
  enter_fd_ = -1;
  if (sqes_ != nullptr) munmap(sqes_, sqes_size_);
  if (cq_ring_ != nullptr && cq_ring_ != sq_ring_) munmap(cq_ring_, cq_ring_size_);
  if (sq_ring_ != nullptr) munmap(sq_ring_, sq_ring_size_);
  sqes_ = nullptr;
  cq_ring_ = sq_ring_ = nullptr;
  cq_flags_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

io_uring_sqe* Ring::GetSqe() {
  const unsigned head = LoadAcquire(sq_head_);
  if (sqe_tail_ - head >= sq_entries_) return nullptr;
  io_uring_sqe* sqe = &sqes_[sqe_tail_ & sq_mask_];
  sqe_tail_++;
  memset(sqe, 0, sizeof(*sqe));
  return sqe;
}

int Ring::Enter(bool get_events) {
  const uint32_t to_submit = sqe_tail_ - submitted_tail_;
  if (to_submit > 0) {
    StoreRelease(sq_tail_, sqe_tail_);
  }
  const uint32_t flags = get_events ? IORING_ENTER_GETEVENTS : 0;
  for (;;) {
    int ret;
    if (faults_ != nullptr && faults_->Fire(Fault::kEnterAgain)) {
      ret = -1;
      errno = EAGAIN;
    } else if (faults_ != nullptr && faults_->Fire(Fault::kEnterBusy)) {
      ret = -1;
      errno = EBUSY;
    } else if (faults_ != nullptr && faults_->Fire(Fault::kEnterIntr)) {
      ret = -1;
      errno = EINTR;
    } else {
      ret = SysEnter(enter_fd_, to_submit, 0, flags | enter_flags_);
    }
    if (ret >= 0) {
      submitted_tail_ += static_cast<uint32_t>(ret);
      return ret;
    }
    if (errno == EINTR) continue;
    return -errno;
  }
}

bool Ring::TaskrunPending() const {
  return (LoadAcquire(sq_flags_) & IORING_SQ_TASKRUN) != 0;
}

bool Ring::CqOverflowPending() const {
  return (LoadAcquire(sq_flags_) & IORING_SQ_CQ_OVERFLOW) != 0;
}

void Ring::SetEventfdSignals(bool on) {
  if (cq_flags_ == nullptr) return;
  const unsigned flags = *cq_flags_;
  StoreRelease(cq_flags_, on ? flags & ~IORING_CQ_EVENTFD_DISABLED : flags | IORING_CQ_EVENTFD_DISABLED);
  if (on) __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint32_t Ring::CqReady(uint32_t* head) const {
  *head = *cq_head_;  // only this thread moves the head
  return LoadAcquire(cq_tail_) - *head;
}

void Ring::CqAdvance(uint32_t new_head) { StoreRelease(cq_head_, new_head); }

int Ring::Register(unsigned opcode, const void* arg, unsigned nr_args) {
  int ret = static_cast<int>(syscall(__NR_io_uring_register, fd_, opcode, arg, nr_args));
  return ret < 0 ? -errno : ret;
}

bool Ring::SupportsOp(uint8_t opcode) const { return probe_ops_[opcode] != 0; }

}  // namespace iolease
