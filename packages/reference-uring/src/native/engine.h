// The loop's engine: one ring, the pool's buffer rings, the socket table, and the completion
// batch JavaScript reads. It prepares operations when asked and, in Pump, submits them and
// drains completions into the batch, handing each full batch to a callback. No Node types: a
// C++ test or another binding could drive it.
#pragma once

#include <errno.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "buffer_ring.h"
#include "ring.h"
#include "socket_table.h"
#include "user_data.h"

namespace iolease {

struct SizeClass {
  uint32_t size;
  uint32_t count;
};

struct EngineOptions {
  RingOptions ring;
  std::vector<SizeClass> classes;
};

// Counters shared with JavaScript as doubles, in this order.
enum Counter : uint32_t {
  kCompletions = 0,
  kBatches = 1,
  kSubmissions = 2,
  kSubmitCalls = 3,
  kCounterCount = 4,
};

// Memory the engine shares with JavaScript; owned by the binding (JavaScript ArrayBuffers).
struct SharedMemory {
  int32_t* batch = nullptr;  // kRecordWords per completion
  uint32_t batch_capacity = 0;  // in completions
  int32_t* returns = nullptr;  // [0] = count, then (class << 16 | bid) per released buffer
  double* counters = nullptr;  // kCounterCount
};

class Engine {
 public:
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine() { Destroy(); }

  // Returns 0, or -errno with `failed_call` naming the failing step.
  int Init(const EngineOptions& options, std::string* failed_call);
  void SetShared(const SharedMemory& shared) { shared_ = shared; }
  // Closes every socket, unregisters the buffer rings and the eventfd, closes the ring.
  void Destroy();
  bool destroyed() const { return destroyed_; }

  int eventfd() const { return event_fd_; }
  const Ring& ring() const { return ring_; }
  BufferRing& buffer_ring(uint32_t i) { return *classes_[i]; }
  uint32_t class_count() const { return static_cast<uint32_t>(classes_.size()); }
  uint32_t total_buffers() const { return total_buffers_; }
  SocketTable& sockets() { return sockets_; }

  // Operations. Each returns 0 (or a slot) on success and -errno on failure; none blocks.
  int Listen(int family, const std::string& ip, int port, int backlog, bool reuse_port, bool ipv6_only,
             bool no_delay, const char** failed_call);
  int ArmAccept(uint32_t slot);
  int Connect(int family, const std::string& ip, int port, bool no_delay);  // returns the slot
  int ArmRecv(uint32_t slot, uint16_t group);
  int CancelRecv(uint32_t slot);
  int Send(uint32_t slot, const uint8_t* data, uint32_t len);
  int SendVector(uint32_t slot, const iovec* iov, uint32_t count);
  int Shutdown(uint32_t slot);
  int Close(uint32_t slot, bool abortive);
  void FreeSlot(uint32_t slot) { sockets_.Free(slot); }

  // Submits queued operations and drains completions; `deliver(n)` is called once per batch of
  // n records. Re-entrant calls (from inside deliver) return at once: the outer pump goes on.
  // Returns 0 or -errno from io_uring_enter.
  template <typename Deliver>
  int Pump(bool woken_by_eventfd, Deliver&& deliver);

 private:
  // Makes room for `n` SQEs (submitting what is queued when the SQ is full); false if it cannot.
  bool Reserve(uint32_t n);
  io_uring_sqe* Sqe();
  void FlushReturns();
  uint32_t DrainInto(uint32_t max);

  Ring ring_;
  std::vector<std::unique_ptr<BufferRing>> classes_;
  uint32_t total_buffers_ = 0;
  SocketTable sockets_;
  SharedMemory shared_;
  int event_fd_ = -1;
  bool pumping_ = false;
  bool destroyed_ = false;
};

template <typename Deliver>
int Engine::Pump(bool woken_by_eventfd, Deliver&& deliver) {
  if (pumping_ || destroyed_) return 0;
  pumping_ = true;
  int result = 0;
  // The eventfd fires only when the kernel's deferred-work list goes from empty to non-empty,
  // so once woken the CQ must be drained completely before returning.
  bool must_enter = woken_by_eventfd;
  for (;;) {
    FlushReturns();
    if (must_enter || ring_.Unsubmitted() > 0 || ring_.TaskrunPending()) {
      int ret = ring_.Enter(true);
      shared_.counters[kSubmitCalls] += 1;
      if (ret >= 0) {
        shared_.counters[kSubmissions] += ret;
      } else if (ret != -EBUSY && ret != -EAGAIN) {
        // EBUSY/EAGAIN mean completions must be drained first; anything else is reported once
        // what the CQ holds has been delivered.
        result = ret;
      }
    }
    must_enter = false;
    const uint32_t n = DrainInto(shared_.batch_capacity);
    if (n == 0) break;
    deliver(n);
    if (destroyed_) break;
  }
  pumping_ = false;
  return result;
}

}  // namespace iolease
