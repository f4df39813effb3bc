// The data area of one size class, shared between the loop and the JavaScript ArrayBuffers that
// each view exactly one of its buffers (spec LEASE-1: a lease's `bytes.buffer` holds nothing
// outside that lease). Those ArrayBuffers are freed by the garbage collector, in any order and
// possibly long after the loop closed (LEASE-6), so the area counts its holders and is unmapped
// when the last one lets go.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace iolease {

class PoolMemory {
 public:
  // Takes ownership of `data` (mapped by BufferRing), held once by the caller.
  PoolMemory(uint8_t* data, size_t size) : data_(data), size_(size) {}
  PoolMemory(const PoolMemory&) = delete;
  PoolMemory& operator=(const PoolMemory&) = delete;

  uint8_t* data() const { return data_; }

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops one hold; the last one unmaps the area and deletes this object.
  void Unref();

 private:
  ~PoolMemory();

  uint8_t* data_;
  size_t size_;
  // Finalizers may run on another thread than the loop's, hence atomic.
  std::atomic<uint32_t> refs_{1};
};

}  // namespace iolease
