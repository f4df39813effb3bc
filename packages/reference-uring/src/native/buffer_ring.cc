#include "buffer_ring.h"

#include <errno.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

namespace iolease {
namespace {

uint32_t NextPowerOfTwo(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

void* MapAnonymous(size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

BufferRing::~BufferRing() {
  Unregister();
  if (owns_data_ && data_ != nullptr) FreeData(data_, data_size());
}

int BufferRing::Init(Ring* ring, uint16_t bgid, uint32_t size, uint32_t count, bool incremental,
                     const char** failed_call) {
  ring_ = ring;
  bgid_ = bgid;
  size_ = size;
  count_ = count;
  entries_ = NextPowerOfTwo(count);
  mask_ = static_cast<uint16_t>(entries_ - 1);
  br_size_ = entries_ * sizeof(io_uring_buf);
  br_ = MapAnonymous(br_size_);
  // The data is mapped, not malloc'ed: page-aligned, and untouched pages cost no RSS until the
  // kernel first fills them.
  data_ = static_cast<uint8_t*>(MapAnonymous(data_size()));
  if (br_ == nullptr || data_ == nullptr) {
    *failed_call = "mmap";
    return -ENOMEM;
  }
  BufReg reg = {};
  reg.ring_addr = reinterpret_cast<uint64_t>(br_);
  reg.ring_entries = entries_;
  reg.bgid = bgid;
  reg.flags = incremental ? kPbufRingInc : 0;
  int ret = ring_->Register(IORING_REGISTER_PBUF_RING, &reg, 1);
  // Kernels before 6.12 reject the flag they do not know.
  if (ret == -EINVAL && incremental) {
    reg.flags = 0;
    ret = ring_->Register(IORING_REGISTER_PBUF_RING, &reg, 1);
  }
  if (ret < 0) {
    *failed_call = "io_uring_register(PBUF_RING)";
    return ret;
  }
  registered_ = true;
  incremental_ = reg.flags == kPbufRingInc;
  extents_ = std::make_unique<uint32_t[]>(count);  // mapped memory starts zeroed
  if (incremental_) {
    offsets_ = std::make_unique<uint32_t[]>(count);
    pieces_ = std::make_unique<uint32_t[]>(count);
    in_kernel_ = std::make_unique<uint8_t[]>(count);
  }
  for (uint32_t bid = 0; bid < count; bid++) Recycle(static_cast<uint16_t>(bid));
  Publish();
  return 0;
}

void BufferRing::Filled(uint16_t bid, uint32_t length) {
  if (bid >= count_) return;
  uint32_t& extent = extents_[bid];
  if (length < extent) memset(data_ + static_cast<size_t>(bid) * size_ + length, 0, extent - length);
  extent = length;
}

void BufferRing::FilledUnseen(uint16_t bid, uint32_t length) {
  if (bid < count_ && length > extents_[bid]) extents_[bid] = length;
}

uint32_t BufferRing::Consume(uint16_t bid, uint32_t length, bool more) {
  if (!incremental_ || bid >= count_) return 0;
  const uint32_t offset = offsets_[bid];
  // The kernel's count, trusted only as far as the buffer reaches.
  offsets_[bid] = std::min(offset + std::min(length, size_ - offset), size_);
  if (!more) in_kernel_[bid] = 0;
  return offset;
}

void BufferRing::PieceOut(uint16_t bid) {
  if (incremental_ && bid < count_) pieces_[bid]++;
}

bool BufferRing::PieceBack(uint16_t bid) {
  if (!incremental_ || bid >= count_ || pieces_[bid] == 0) return false;
  pieces_[bid]--;
  return RequeueIfFree(bid);
}

bool BufferRing::RequeueIfFree(uint16_t bid) {
  if (!incremental_ || bid >= count_ || in_kernel_[bid] != 0 || pieces_[bid] != 0) return false;
  Recycle(bid);
  return true;
}

void BufferRing::Recycle(uint16_t bid) {
  if (incremental_) {
    // Whole again: the kernel starts from the beginning, and its pieces are new ones.
    in_kernel_[bid] = 1;
    offsets_[bid] = 0;
  }
  // Field by field: entry 0's `resv` is the ring's shared tail and must not be overwritten.
  io_uring_buf* buf = &BufRingEntries(br_)[(tail_ + pending_) & mask_];
  buf->addr = reinterpret_cast<uint64_t>(data_ + static_cast<size_t>(bid) * size_);
  buf->len = size_;
  buf->bid = bid;
  pending_++;
}

void BufferRing::Publish() {
  if (pending_ == 0) return;
  tail_ = static_cast<uint16_t>(tail_ + pending_);
  pending_ = 0;
  __atomic_store_n(BufRingTail(br_), tail_, __ATOMIC_RELEASE);
}

void BufferRing::Unregister() {
  if (registered_) {
    BufReg reg = {};
    reg.bgid = bgid_;
    ring_->Register(IORING_UNREGISTER_PBUF_RING, &reg, 1);
    registered_ = false;
  }
  if (br_ != nullptr) munmap(br_, br_size_);
  br_ = nullptr;
}

uint8_t* BufferRing::TakeData() {
  owns_data_ = false;
  return data_;
}

void BufferRing::FreeData(uint8_t* data, size_t size) { munmap(data, size); }

}  // namespace iolease
