// One size class of the loop's receive pool: `count` buffers of `size` bytes in one memory
// area, registered with the kernel as a provided-buffer ring (IORING_REGISTER_PBUF_RING) whose
// group id is the class index.
//
// The data area outlives the registration: leases view it from JavaScript, so the binding takes
// it (TakeData) into a PoolMemory, which frees it once no lease's ArrayBuffer can read it.
//
// Incremental consumption (IOU_PBUF_RING_INC, 6.12): the kernel fills a buffer a piece at a
// time, one piece per receive, and says with IORING_CQE_F_BUF_MORE that it will fill more of it.
// Each piece is a lease of its own, so a buffer goes back to the ring only once the kernel is
// done with it and every piece JavaScript holds has come back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

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
  // With `incremental`, asks for incremental consumption, and falls back to whole buffers on a
  // kernel without it (before 6.12).
  int Init(Ring* ring, uint16_t bgid, uint32_t size, uint32_t count, bool incremental, const char** failed_call);

  // Whether the kernel consumes this ring's buffers incrementally.
  bool incremental() const { return incremental_; }
  // Incremental: the kernel put `length` bytes into buffer `bid`, after those of its earlier
  // pieces, and is done with the buffer unless `more`. Returns the piece's offset in the buffer.
  uint32_t Consume(uint16_t bid, uint32_t length, bool more);
  // Incremental: JavaScript holds one more piece of `bid` (a lease, or data held for a channel).
  void PieceOut(uint16_t bid);
  // Incremental: a piece of `bid` came back. Whether the buffer went back to the ring with it.
  bool PieceBack(uint16_t bid);
  // Incremental: puts `bid` back in the ring if the kernel is done with it and no piece is out.
  bool RequeueIfFree(uint16_t bid);

  // The kernel filled `length` bytes of buffer `bid` for a completion that is delivered. Bytes
  // an earlier, longer fill left behind are wiped, so a lease's ArrayBuffer holds nothing past
  // its own bytes (spec LEASE-11); it costs nothing while fills keep their length.
  void Filled(uint16_t bid, uint32_t length);
  // The kernel filled `length` bytes of buffer `bid` for a completion no one will see; they are
  // wiped by the buffer's next Filled.
  void FilledUnseen(uint16_t bid, uint32_t length);

  // Queues buffer `bid` for the kernel again; Publish makes the queued ones visible.
  void Recycle(uint16_t bid);
  void Publish();

  // Stops the kernel using the ring (unregister) and unmaps the ring; the data stays.
  void Unregister();

  uint8_t* data() const { return data_; }
  size_t data_size() const { return static_cast<size_t>(size_) * count_; }
  uint32_t size() const { return size_; }
  uint32_t count() const { return count_; }

  // Frees a data area given out by TakeData; for PoolMemory.
  static void FreeData(uint8_t* data, size_t size);
  // Hands the data area's ownership to the caller (a PoolMemory).
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
  std::unique_ptr<uint32_t[]> extents_;  // per buffer: how far from its start it may hold old bytes
  // Incremental only, per buffer: bytes the kernel filled since it was last queued, pieces
  // JavaScript holds, and whether the kernel may still fill it.
  std::unique_ptr<uint32_t[]> offsets_;
  std::unique_ptr<uint32_t[]> pieces_;
  std::unique_ptr<uint8_t[]> in_kernel_;
  bool incremental_ = false;
  bool owns_data_ = true;
  uint32_t size_ = 0;
  uint32_t count_ = 0;
};

}  // namespace iolease
