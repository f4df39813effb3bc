#include "faults.h"

#ifdef IOLEASE_FAULTS

#include <cstdlib>
#include <cstring>
#include <string>

namespace iolease {

void FaultPlan::Configure(const char* spec) {
  if (spec == nullptr || *spec == '\0') return;
  enabled_ = true;
  double rate = 0.02;
  double own[static_cast<uint32_t>(Fault::kCount)];
  for (double& r : own) r = -1;
  std::string s(spec);
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    const std::string item = s.substr(pos, end - pos);
    pos = end + 1;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = item.substr(0, eq);
    const char* value = item.c_str() + eq + 1;
    if (key == "seed") {
      state_ = std::strtoull(value, nullptr, 10);
    } else if (key == "rate") {
      rate = std::strtod(value, nullptr);
    } else {
      for (uint32_t f = 0; f < static_cast<uint32_t>(Fault::kCount); f++) {
        if (key == kFaultNames[f]) own[f] = std::strtod(value, nullptr);
      }
    }
  }
  if (state_ == 0) state_ = 1;  // xorshift never leaves zero
  for (uint32_t f = 0; f < static_cast<uint32_t>(Fault::kCount); f++) {
    const bool reset = f == static_cast<uint32_t>(Fault::kResetRecv);
    rates_[f] = own[f] >= 0 ? own[f] : (reset ? 0 : rate);
  }
}

uint64_t FaultPlan::Next() {
  // xorshift64*: small, seedable, and the same sequence on every machine.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return state_ * 2685821657736338717ULL;
}

bool FaultPlan::Fire(Fault f) {
  if (!enabled_) return false;
  const uint32_t i = static_cast<uint32_t>(f);
  if (rates_[i] <= 0) return false;
  const double draw = static_cast<double>(Next() >> 11) / 9007199254740992.0;  // [0, 1)
  if (draw >= rates_[i]) return false;
  fired_[i]++;
  return true;
}

uint32_t FaultPlan::Below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(Next() % n); }

}  // namespace iolease

#endif
