// Fault injection for the test build (`npm run build:faults`, -DIOLEASE_FAULTS): a seeded
// schedule that makes operations fail or shrink the way the kernel may, so the tests can walk
// the loop's rare paths on purpose. In a normal build FaultPlan is an empty class whose Fire()
// is a constant false, and every injection site compiles away.
//
// The schedule comes from the environment variable IOLEASE_FAULTS, read when a loop is created:
//   seed=N          the PRNG seed (default 1); the same seed replays the same decisions
//   rate=R          probability of each fault at each opportunity (default 0.02)
//   <fault>=R       a rate for one fault, overriding `rate` (names below)
// `reset` defaults to 0: it ends connections, which only tests that expect that can accept.
#pragma once

#include <cstdint>

namespace iolease {

enum class Fault : uint32_t {
  kEnterAgain = 0,    // io_uring_enter fails with EAGAIN before submitting anything
  kEnterBusy = 1,     // io_uring_enter fails with EBUSY before submitting anything
  kEnterIntr = 2,     // io_uring_enter is interrupted by a signal (EINTR)
  kSqFull = 3,        // the submission queue counts as full: operations wait in the backlog
  kShortSend = 4,     // a send asks the kernel for fewer bytes than queued (a partial send)
  kArmNoBuffers = 5,  // arming a receive finds the ring empty (ENOBUFS at once)
  kCancelRecv = 6,    // a multishot receive ends after a completion (as a full CQ ends it)
  kResetRecv = 7,     // a multishot receive ends with ECONNRESET (the peer reset), its last bytes dropped
  kCount = 8,
};

constexpr const char* kFaultNames[] = {"again", "busy", "intr", "sqfull", "short", "nobufs", "cancel", "reset"};

#ifdef IOLEASE_FAULTS

class FaultPlan {
 public:
  // Parses the schedule (see above); nullptr or "" leaves injection off.
  void Configure(const char* spec);
  bool enabled() const { return enabled_; }
  // Whether fault `f` happens at this opportunity; counted when it does.
  bool Fire(Fault f);
  // A number in [0, n), from the same seeded sequence.
  uint32_t Below(uint32_t n);
  uint64_t fired(Fault f) const { return fired_[static_cast<uint32_t>(f)]; }

 private:
  uint64_t Next();

  bool enabled_ = false;
  uint64_t state_ = 1;
  double rates_[static_cast<uint32_t>(Fault::kCount)] = {};
  uint64_t fired_[static_cast<uint32_t>(Fault::kCount)] = {};
};

#else

class FaultPlan {
 public:
  void Configure(const char*) {}
  constexpr bool enabled() const { return false; }
  constexpr bool Fire(Fault) { return false; }
  constexpr uint32_t Below(uint32_t) { return 0; }
  constexpr uint64_t fired(Fault) const { return 0; }
};

#endif

}  // namespace iolease
