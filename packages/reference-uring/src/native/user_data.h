// How an SQE's user_data names its operation: the kind in the high 32 bits, the socket slot in
// the low 32. The same kinds are mirrored in src/completion.ts, and a test checks they agree.
#pragma once

#include <cstdint>

namespace iolease {

enum class OpKind : uint32_t {
  kAccept = 1,       // multishot accept on a listener
  kRecv = 2,         // multishot recv with buffer select on a channel
  kSend = 3,         // send or sendmsg of a channel's queued writes
  kConnect = 4,      // connect of a client channel
  kCloseCancel = 5,  // cancel of every operation on a socket that is closing
  kClose = 6,        // close of the socket, hard-linked after kCloseCancel
  kRecvCancel = 7,   // cancel of a channel's recv (pause, or a change of size class)
};

inline uint64_t EncodeUserData(OpKind kind, uint32_t slot) {
  return (static_cast<uint64_t>(kind) << 32) | slot;
}
inline uint32_t UserDataKind(uint64_t user_data) { return static_cast<uint32_t>(user_data >> 32); }
inline uint32_t UserDataSlot(uint64_t user_data) { return static_cast<uint32_t>(user_data); }

// One completion as JavaScript reads it from the shared batch: four int32 words.
// For kAccept, `res` is the new channel's slot (or -errno) rather than the kernel's fd.
constexpr uint32_t kRecordWords = 4;
enum RecordField : uint32_t { kFieldKind = 0, kFieldSlot = 1, kFieldRes = 2, kFieldFlags = 3 };

}  // namespace iolease
