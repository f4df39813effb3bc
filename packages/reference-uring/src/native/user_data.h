// How an SQE's user_data names its operation: the kind (8 bits), the buffer group of a receive
// (8 bits), the slot's generation (16 bits) and the socket slot (32 bits). The same kinds are
// mirrored in src/completion.ts, and a test checks they agree.
//
// The generation makes a completion that outlives its socket harmless: a slot is reused only
// after every operation naming it completed, but should one arrive late anyway, the engine sees
// a generation that no longer matches and drops it (returning its buffer) instead of handing a
// new socket another socket's bytes. The group travels with a receive so that a completion says
// which class its buffer came from, whatever the channel has armed since.
#pragma once

#include <cstdint>

namespace iolease {

enum class OpKind : uint32_t {
  kAccept = 1,       // multishot accept on a listener
  kRecv = 2,         // multishot recv with buffer select on a channel
  kSend = 3,         // send or sendmsg of a channel's queued writes, never waiting in the kernel
  kConnect = 4,      // connect of a client channel
  kCloseCancel = 5,  // cancel of every operation on a socket that is closing
  kClose = 6,        // close of the socket, hard-linked after kCloseCancel
  kRecvCancel = 7,   // cancel of a channel's recv (pause, or a change of size class)
  kInternal = 8,     // the engine's own operations (fault injection); never reach JavaScript
  kWritable = 9,     // a one-shot poll for POLLOUT: a channel's socket has room again
  kRoomPoll = 10,    // the poll of the RoomWatch epoll instance; never reaches JavaScript
  // No operation: the kernel finished an incremental buffer whose last piece no one will see (a
  // completion dropped as stale), while JavaScript still holds earlier pieces of it. Slot 0; the
  // group as for kRecv and the buffer id in the flags, as a receive carries them.
  kBufferDone = 11,
};

inline uint64_t EncodeUserData(OpKind kind, uint32_t slot, uint16_t generation, uint8_t group = 0) {
  return (static_cast<uint64_t>(kind) << 56) | (static_cast<uint64_t>(group) << 48) |
         (static_cast<uint64_t>(generation) << 32) | slot;
}
inline uint32_t UserDataKind(uint64_t user_data) { return static_cast<uint32_t>(user_data >> 56); }
inline uint8_t UserDataGroup(uint64_t user_data) { return static_cast<uint8_t>(user_data >> 48); }
inline uint16_t UserDataGeneration(uint64_t user_data) { return static_cast<uint16_t>(user_data >> 32); }
inline uint32_t UserDataSlot(uint64_t user_data) { return static_cast<uint32_t>(user_data); }

// One completion as JavaScript reads it from the shared batch: five int32 words.
// kFieldKind holds the kind in its low 8 bits and, for kRecv, the buffer group in the next 8.
// For kAccept, `res` is the new channel's slot (or -errno) rather than the kernel's fd.
// kFieldOffset is, for a receive into an incremental buffer, where in the buffer its bytes start.
constexpr uint32_t kRecordWords = 5;
enum RecordField : uint32_t { kFieldKind = 0, kFieldSlot = 1, kFieldRes = 2, kFieldFlags = 3, kFieldOffset = 4 };

// A return queue entry is (class << 16 | bid); JavaScript may set this bit on the entry that
// gives back an incremental buffer's last piece, to count returning buffers (POOL-5).
constexpr uint32_t kReturnLastPiece = 1U << 30;

// Most size classes a loop may have: a receive's group is 8 bits of its user_data (spec POOL-2).
constexpr uint32_t kMaxClasses = 64;
// Most buffers per class: the kernel's limit on provided-buffer ring entries.
constexpr uint32_t kMaxBuffersPerClass = 32768;

}  // namespace iolease
