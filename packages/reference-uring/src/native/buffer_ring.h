// One size class of the loop's receive pool: `count` buffers of `size` bytes in one memory
// area, registered with the kernel as a provided-buffer ring (IORING_REGISTER_PBUF_RING) whose
// group id is the class index.
//
// The data area outlives the registration: it is handed to JavaScript as one external
// ArrayBuffer, and leases are views into it, so it is freed by that ArrayBuffer's finalizer
// (Release), never while a lease could still read it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ring.h"

namespace iolease {

class BufferRing {
 public:
  BufferRing() = default;
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;
  ~BufferRing();

  // Maps the ring and data memory and registers the ring as group `bgid`, every buffer
  // initially in the kernel's hands. Returns 0 or -errno (`failed_call` says which call).
  int Init(Ring* ring, uint16_t bgid, uint32_t size, uint32_t count, const char** failed_call);

  // Queues buffer `bid` for the kernel again; Publish makes the queued ones visible.
  void Recycle(uint16_t bid);
  void Publish();

  // Stops the kernel using the ring (unregister) and unmaps the ring; the data stays.
  void Unregister();

  uint8_t* data() const { return data_; }
  size_t data_size() const { return static_cast<size_t>(size_) * count_; }
  uint32_t size() const { return size_; }
  uint32_t count() const { return count_; }

  // Frees a data area given out by TakeData; for the ArrayBuffer finalizer.
  static void FreeData(uint8_t* data, size_t size);
  // Hands the data area's ownership to the caller (the JavaScript ArrayBuffer).
  uint8_t* TakeData();

 private:
  Ring* ring_ = nullptr;
  void* br_ = nullptr;  // the ring: entries_ io_uring_buf, tail overlaid on entry 0
  size_t br_size_ = 0;
  uint32_t entries_ = 0;  // power of two >= count_, so every buffer fits in the ring at once
  uint16_t mask_ = 0;
  uint16_t bgid_ = 0;
  uint16_t tail_ = 0;     // local tail, published by Publish
  uint16_t pending_ = 0;  // recycled since the last Publish
  bool registered_ = false;
  uint8_t* data_ = nullptr;
  bool owns_data_ = true;
  uint32_t size_ = 0;
  uint32_t count_ = 0;
};

}  // namespace iolease
