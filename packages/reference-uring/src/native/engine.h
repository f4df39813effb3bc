// The loop's engine: one ring, the pool's buffer rings, the socket table, and the completion
// batch JavaScript reads. It prepares operations when asked and, in Pump, submits them and
// drains completions into the batch, handing each full batch to a callback. No Node types: a
// C++ test or another binding could drive it.
//
// Liveness rules the engine keeps (spec LOOP-5, PRESS-3):
// - Preparing an operation never fails for lack of SQ space: what does not fit waits in the
//   backlog, in order, and goes to the kernel at the next pump.
// - A pump returns only when nothing is left that it could collect: the CQ is empty, and no
//   completion waits in the overflow list or as deferred task work. If the kernel refuses an
//   enter (EAGAIN, EBUSY) or work remains, Pump says so and the caller must pump again soon.
// - An exception from the batch callback leaves the engine consistent: the pump's guard is
//   reset and the records not yet read stay in the CQ for the next pump.
#pragma once

#include <errno.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "buffer_ring.h"
#include "faults.h"
#include "ring.h"
#include "room_watch.h"
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
  bool incremental = false;  // incremental buffer consumption where the kernel has it
  const char* faults = nullptr;  // the fault schedule of a test build (faults.h)
};

// Counters shared with JavaScript as doubles, in this order.
enum Counter : uint32_t {
  kCompletions = 0,
  kBatches = 1,
  kSubmissions = 2,
  kSubmitCalls = 3,
  kStaleCompletions = 4,  // completions that outlived their socket, dropped (see user_data.h)
  kOverflowFlushes = 5,   // pumps that found completions in the kernel's overflow list
  kEnterRetries = 6,      // enters refused (EAGAIN, EBUSY) and retried
  kBacklogged = 7,        // operations that waited in the backlog for SQ space
  kCounterCount = 8,
};

// Memory the engine shares with JavaScript; owned by the binding (JavaScript ArrayBuffers).
struct SharedMemory {
  int32_t* batch = nullptr;  // kRecordWords per completion
  uint32_t batch_capacity = 0;  // in completions
  int32_t* returns = nullptr;  // [0] = count, then (class << 16 | bid) per released buffer
  uint32_t returns_capacity = 0;  // entries after [0]
  double* counters = nullptr;  // kCounterCount
};

// What a pump left behind.
struct PumpResult {
  int error = 0;        // -errno of a failed enter other than EAGAIN/EBUSY, else 0
  bool again = false;   // work remains (refused enter, backlog, overflow): pump again soon
  bool yielded = false;  // the pump's share of this turn is spent with work left: pump next turn
};

// Batches one pump delivers before it hands the thread back to the host loop (spec LOOP-3).
// Under steady traffic the kernel has new completions at every enter, and a pump that went on
// while there were any would keep timers, node:net sockets and every other loop of the thread
// waiting for as long as the traffic lasts.
constexpr uint32_t kBatchesPerPump = 8;

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
  // Whether the kernel consumes the pool's buffers incrementally (all classes alike).
  bool incremental() const { return !classes_.empty() && classes_[0]->incremental(); }
  uint32_t class_count() const { return static_cast<uint32_t>(classes_.size()); }
  uint32_t total_buffers() const { return total_buffers_; }
  SocketTable& sockets() { return sockets_; }
  const FaultPlan& faults() const { return faults_; }

  // Operations. Each returns 0 (or a slot) on success and -errno on failure (a bad slot or
  // argument, never a full SQ); none blocks.
  int Listen(int family, const std::string& ip, int port, int backlog, bool reuse_port, bool ipv6_only,
             bool no_delay, const char** failed_call);
  int ArmAccept(uint32_t slot);
  int Connect(int family, const std::string& ip, int port, bool no_delay);  // returns the slot
  int ArmRecv(uint32_t slot, uint32_t group, bool multishot);
  int CancelRecv(uint32_t slot);
  // With `zero_copy`, the kernel sends from this memory itself (SEND_ZC, SENDMSG_ZC) and keeps
  // it until a second completion, the notification (IORING_CQE_F_NOTIF), whose result has
  // IORING_NOTIF_USAGE_ZC_COPIED set when it copied after all (loopback always does).
  int Send(uint32_t slot, const uint8_t* data, uint32_t len, bool zero_copy);
  int SendVector(uint32_t slot, const iovec* iov, uint32_t count, bool zero_copy);
  // Sends never wait in the kernel or in the backlog: the kernel reads their memory inside the
  // enter that follows at once, while no JavaScript runs that could detach or free it (spec
  // WRITE-12). A send the socket cannot take completes with -EAGAIN or a short count, and the
  // channel waits for room with PollWritable; a send the SQ has no room for returns -EAGAIN.
  int PollWritable(uint32_t slot);
  int Shutdown(uint32_t slot);
  int Close(uint32_t slot, bool abortive);
  void FreeSlot(uint32_t slot) { sockets_.Free(slot); }
  // Moves the buffers JavaScript queued for return into their rings now, for a queue that is
  // full before the next pump (incremental buffers, whose leases outnumber the buffers).
  void ApplyReturns() {
    if (!destroyed_) FlushReturns();
  }

  // Submits queued operations and drains completions; `deliver(n)` is called once per batch of
  // n records. `prepare()` runs right before each enter, to submit the sends JavaScript queued,
  // and returns whether some are left for want of room. Re-entrant calls (from inside deliver)
  // return at once: the outer pump goes on.
  template <typename Prepare, typename Deliver>
  PumpResult Pump(bool woken_by_eventfd, Prepare&& prepare, Deliver&& deliver);

 private:
  // Clears `pumping_` and turns the eventfd signals back on however the pump is left, an
  // exception from deliver included.
  struct PumpGuard {
    Engine* engine;
    ~PumpGuard() {
      engine->pumping_ = false;
      if (!engine->destroyed_) engine->ring_.SetEventfdSignals(true);
    }
  };

  // One pump's rounds of submit, enter and deliver, until nothing is left to collect or the
  // pump's share of the turn is spent (Pump's loop body).
  // `batches` counts across a pump's calls, so that the share of the turn holds for all of them.
  template <typename Prepare, typename Deliver>
  void Drain(bool must_enter, uint32_t* batches, PumpResult* result, Prepare& prepare, Deliver& deliver);
  // Right after the signals are back on: whether work reached the kernel while they were off
  // that no signal will announce. The kernel signals only when its deferred-work list goes from
  // empty to non-empty, so work added to a list that was already non-empty while the signals
  // were off would otherwise wait for good.
  bool WorkQueuedUnsignalled(PumpResult* result);

  // Whether `n` SQEs can go straight into the SQ: it has room, and nothing waits in the backlog.
  bool Direct(uint32_t n);
  // An SQE to fill, in the SQ if `direct` (see Direct), else at the end of the backlog. The
  // engine never enters the kernel to make room: that could submit half of a link chain.
  io_uring_sqe* Sqe(bool direct);
  // Moves backlogged SQEs into the SQ, whole link chains only, in order.
  void MoveBacklog();
  bool Backlogged() const { return !backlog_.empty(); }
  // Buffers JavaScript gave back that have not gone to their ring yet.
  bool ReturnsQueued() const { return shared_.returns != nullptr && shared_.returns[0] > 0; }
  // Waits for room in slot's socket in the RoomWatch, for a channel whose peer has half-closed.
  int WatchRoom(Socket* s, uint32_t slot);
  // Keeps one io_uring poll on the RoomWatch's epoll fd while it watches anything.
  void ArmRoomPoll();
  // A completion as the batch carries it (see kRecordWords).
  struct Record {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
    uint32_t offset;
  };
  static Record MakeRecord(uint64_t user_data, int32_t res, uint32_t flags = 0, uint32_t offset = 0) {
    return Record{user_data, res, flags, offset};
  }
  // Writes one completion record into the batch, or keeps it for the next one if the batch is full.
  void Emit(uint32_t* count, uint32_t max, const Record& record);
  static void WriteRecord(int32_t* out, const Record& record);
  // A receive's buffer that no one will see (its socket is gone, or the fault plan swallows it)
  // goes back to the ring, or, incremental, once the kernel and JavaScript are done with it.
  void DropBuffer(uint32_t group, uint32_t flags, int32_t res, uint32_t* count, uint32_t max);
  uint16_t Generation(uint32_t slot) { return sockets_.Get(slot)->generation; }
  void FlushReturns();
  uint32_t DrainInto(uint32_t max);
  // Whether a completion names a socket that no longer exists; if so, frees what it carries.
  bool DropIfStale(const io_uring_cqe& cqe, uint32_t* count, uint32_t max);
  // Enters with GETEVENTS; false if the kernel refused (EAGAIN/EBUSY), error set on failure.
  bool EnterAndCount(PumpResult* result);
  // Fault injection: ends slot's receive after a completion, by a cancel or as a reset.
  void InjectRecvEnd(uint32_t slot, uint64_t recv_user_data, bool reset);

  Ring ring_;
  std::vector<std::unique_ptr<BufferRing>> classes_;
  std::vector<uint8_t> touched_;  // per class: a return since the last publish
  uint32_t total_buffers_ = 0;
  SocketTable sockets_;
  SharedMemory shared_;
  std::deque<io_uring_sqe> backlog_;
  // Completions no kernel operation will post (made up by the fault plan, or ending a RoomWatch
  // wait), and ones a full batch had no room for: delivered first, in order.
  std::vector<Record> synthetic_;
  FaultPlan faults_;
  RoomWatch room_;
  bool room_poll_armed_ = false;
  int event_fd_ = -1;
  bool pumping_ = false;
  bool destroyed_ = false;
};

template <typename Prepare, typename Deliver>
PumpResult Engine::Pump(bool woken_by_eventfd, Prepare&& prepare, Deliver&& deliver) {
  PumpResult result;
  if (pumping_ || destroyed_) return result;
  pumping_ = true;
  // The kernel's eventfd signals are off while the pump runs: its own enters post completions,
  // and each would signal the eventfd for work this pump collects anyway, costing an epoll
  // wake-up, an eventfd read and an empty enter after every batch. The guard turns them back on
  // however the pump is left, an exception from deliver included; the caller's retry covers
  // the paths that return early (again, yielded, error).
  PumpGuard guard{this};
  ring_.SetEventfdSignals(false);
  bool must_enter = woken_by_eventfd;
  uint32_t batches = 0;
  for (;;) {
    Drain(must_enter, &batches, &result, prepare, deliver);
    if (destroyed_ || result.again || result.yielded || result.error < 0) return result;
    ring_.SetEventfdSignals(true);
    if (!WorkQueuedUnsignalled(&result)) return result;
    ring_.SetEventfdSignals(false);
    must_enter = true;
  }
}

template <typename Prepare, typename Deliver>
void Engine::Drain(bool must_enter, uint32_t* batches_so_far, PumpResult* out, Prepare& prepare, Deliver& deliver) {
  PumpResult& result = *out;
  uint32_t& batches = *batches_so_far;
  // The eventfd fires only when the kernel's deferred-work list goes from empty to non-empty,
  // and not at all for completions parked in the overflow list: once here, collect until the
  // CQ is empty and neither flag is raised, or a wake-up could be lost for good.
  uint32_t idle_rounds = 0;
  for (;;) {
    FlushReturns();
    MoveBacklog();
    const bool sends_left = prepare();
    if (destroyed_) return;
    const uint32_t unsubmitted = ring_.Unsubmitted();
    bool submitted = false;
    if (must_enter || unsubmitted > 0 || ring_.TaskrunPending() || ring_.CqOverflowPending()) {
      if (ring_.CqOverflowPending()) shared_.counters[kOverflowFlushes] += 1;
      EnterAndCount(&result);
      submitted = ring_.Unsubmitted() < unsubmitted;
    }
    must_enter = false;
    if (batches == kBatchesPerPump) {
      // What the enter just submitted is in the kernel; what it completed waits for next turn,
      // which nothing else may announce (the eventfd fires on new work, not on work left).
      uint32_t head;
      result.yielded = ring_.CqReady(&head) > 0 || !synthetic_.empty() || ring_.TaskrunPending() ||
                       ring_.CqOverflowPending() || ring_.Unsubmitted() > 0 || Backlogged() || sends_left ||
                       ReturnsQueued();
      return;
    }
    const uint32_t n = DrainInto(shared_.batch_capacity);
    if (n > 0) {
      idle_rounds = 0;
      batches++;
      deliver(n);
      if (destroyed_) return;
      continue;
    }
    // JavaScript asks for no pump while this one runs (binding.cc), so whatever it queued during
    // this pump shows here: SQEs, sends, returned buffers.
    const bool pending = ring_.TaskrunPending() || ring_.CqOverflowPending() || ring_.Unsubmitted() > 0 ||
                         Backlogged() || sends_left || !synthetic_.empty() || ReturnsQueued();
    if (!pending) return;
    // Submitting made room for the backlog: go on with it.
    if (submitted) {
      idle_rounds = 0;
      continue;
    }
    // Nothing came back although the kernel holds work: try once more at once, then leave it
    // to the caller's retry rather than spin inside one turn of the host loop.
    if (++idle_rounds > 1) {
      result.again = true;
      return;
    }
  }
}

}  // namespace iolease
