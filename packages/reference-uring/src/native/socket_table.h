// The loop's sockets, by slot: file descriptors, per-socket operation state the kernel reads
// while an operation is in flight (sendmsg's iovecs, connect's address), and the plain socket
// syscalls (listen, options, addresses).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace iolease {

// Most iovecs one sendmsg carries; the JavaScript side never passes more.
constexpr uint32_t kMaxIov = 64;

struct SendMessage {
  msghdr msg;
  iovec iov[kMaxIov];
};

struct Socket {
  int fd = -1;
  bool in_use = false;
  // Bumped each time the slot is freed: operations carry it in their user_data, so a completion
  // that outlived its socket is recognised (see user_data.h).
  uint16_t generation = 0;
  bool no_delay = true;  // listeners: applied to every accepted socket
  uint64_t recv_user_data = 0;  // the armed receive's, for its cancel (it names the group)
  bool fault_swallow_recv = false;  // test build: an injected reset ended the receive
  // The peer has half-closed: a poll for room would answer at once (see room_watch.h), so this
  // channel waits for room in the RoomWatch instead, and `room_watched` says it is there now.
  bool peer_half_closed = false;
  bool room_watched = false;
  std::unique_ptr<SendMessage> send_vector;  // allocated on a channel's first vectored write
  std::unique_ptr<sockaddr_storage> connect_address;  // kept until connect completes
  // A connection's own addresses, captured when it is accepted or connected: read later, after
  // a reset or once the fd went to the kernel to close, they would fail or, by slot, name another
  // connection (spec LIFE-13). Listeners have none and ask the kernel.
  sockaddr_storage local_address;
  sockaddr_storage peer_address;
  bool has_addresses = false;
};

// The family number JavaScript passes and gets back for a Unix domain socket (4 and 6 are IP).
constexpr int kFamilyUnix = 1;

struct Address {
  int family = 0;  // 4, 6 or kFamilyUnix
  std::string ip;
  int port = 0;
};

class SocketTable {
 public:
  ~SocketTable() { CloseAll(); }

  // A slot for `fd`; the table owns the fd from here until it is closed.
  uint32_t Add(int fd);
  Socket* Get(uint32_t slot);
  // Forgets a slot whose fd is closed; closes the fd first if it is not.
  void Free(uint32_t slot);
  void CloseAll();
  uint32_t open_count() const { return open_count_; }
  // Slots ever used: Get(0 .. slot_count() - 1) are all valid.
  uint32_t slot_count() const { return static_cast<uint32_t>(sockets_.size()); }

 private:
  std::vector<Socket> sockets_;
  std::vector<uint32_t> free_;
  uint32_t open_count_ = 0;
};

// Parses a numeric address; returns the sockaddr length, or 0 when `ip` is not an address of
// `family` (4 or 6).
socklen_t ParseAddress(int family, const std::string& ip, int port, sockaddr_storage* out);

// socket + SO_REUSEADDR (+ SO_REUSEPORT, IPV6_V6ONLY) + bind + listen. Returns the fd, or
// -errno with `failed_call` set.
int ListenSocket(const sockaddr_storage& addr, socklen_t len, int backlog, bool reuse_port, bool ipv6_only,
                 const char** failed_call);
int SetNoDelay(int fd, bool on);
int SetKeepAlive(int fd, bool on, int idle_seconds);
int SetLingerZero(int fd);
int GetAddress(int fd, bool peer, Address* out);
// Formats a captured address; -EAFNOSUPPORT for anything but IPv4 and IPv6.
int FormatAddress(const sockaddr_storage& ss, Address* out);
// Captures a connected socket's local and peer addresses into `s`; -errno if the kernel refuses
// (a connection reset before it was accepted, say), leaving none captured.
int CaptureAddresses(Socket* s);

}  // namespace iolease
