#include "pool_memory.h"

#include "buffer_ring.h"

namespace iolease {

void PoolMemory::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

PoolMemory::~PoolMemory() { BufferRing::FreeData(data_, size_); }

}  // namespace iolease
