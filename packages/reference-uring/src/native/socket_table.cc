#include "socket_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/un.h>

#include <cstddef>
#include <unistd.h>

namespace iolease {

uint32_t SocketTable::Add(int fd) {
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(sockets_.size());
    sockets_.emplace_back();
  }
  Socket& s = sockets_[slot];
  s.fd = fd;
  s.in_use = true;
  s.no_delay = true;
  s.recv_user_data = 0;
  s.fault_swallow_recv = false;
  s.peer_half_closed = false;
  s.room_watched = false;
  s.has_addresses = false;
  open_count_++;
  return slot;
}

Socket* SocketTable::Get(uint32_t slot) {
  if (slot >= sockets_.size() || !sockets_[slot].in_use) return nullptr;
  return &sockets_[slot];
}

void SocketTable::Free(uint32_t slot) {
  Socket* s = Get(slot);
  if (s == nullptr) return;
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  s->in_use = false;
  s->generation++;
  s->send_vector.reset();
  s->connect_address.reset();
  free_.push_back(slot);
  open_count_--;
}

void SocketTable::CloseAll() {
  for (uint32_t slot = 0; slot < sockets_.size(); slot++) Free(slot);
}

socklen_t ParseAddress(int family, const std::string& ip, int port, sockaddr_storage* out) {
  memset(out, 0, sizeof(*out));
  if (family == kFamilyUnix) {
    // A path, or an abstract name when it starts with NUL; JavaScript checked the length
    // (LIFE-20), checked again here because sun_path is a fixed array.
    auto* a = reinterpret_cast<sockaddr_un*>(out);
    a->sun_family = AF_UNIX;
    if (ip.empty() || ip.size() >= sizeof(a->sun_path)) return 0;
    memcpy(a->sun_path, ip.data(), ip.size());
    // An abstract name is exactly its bytes; a path also counts its terminating NUL.
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + ip.size() + (ip[0] == '\0' ? 0 : 1));
  }
  if (family == 4) {
    auto* a = reinterpret_cast<sockaddr_in*>(out);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    return inet_pton(AF_INET, ip.c_str(), &a->sin_addr) == 1 ? sizeof(sockaddr_in) : 0;
  }
  if (family == 6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(out);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    return inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) == 1 ? sizeof(sockaddr_in6) : 0;
  }
  return 0;
}

int ListenSocket(const sockaddr_storage& addr, socklen_t len, int backlog, bool reuse_port, bool ipv6_only,
                 const char** failed_call) {
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *failed_call = "socket";
    return -errno;
  }
  const int one = 1;
  // SO_REUSEADDR as node:net sets it: a restarted server can bind past TIME_WAIT sockets. A Unix
  // socket has no TIME_WAIT, and an existing path must fail (EADDRINUSE), never be taken over.
  int ret = addr.ss_family == AF_UNIX ? 0 : setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (ret == 0 && reuse_port) ret = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (ret == 0 && addr.ss_family == AF_INET6) {
    const int v6only = ipv6_only ? 1 : 0;
    ret = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
  }
  if (ret < 0) {
    *failed_call = "setsockopt";
  } else if ((ret = bind(fd, reinterpret_cast<const sockaddr*>(&addr), len)) < 0) {
    *failed_call = "listen";  // as node:net names it: "listen EADDRINUSE"
  } else if ((ret = listen(fd, backlog)) < 0) {
    *failed_call = "listen";
  }
  if (ret < 0) {
    int err = -errno;
    close(fd);
    return err;
  }
  return fd;
}

int SetNoDelay(int fd, bool on) {
  const int v = on ? 1 : 0;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) < 0 ? -errno : 0;
}

int SetKeepAlive(int fd, bool on, int idle_seconds) {
  const int v = on ? 1 : 0;
  if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)) < 0) return -errno;
  if (on && idle_seconds > 0 && setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_seconds, sizeof(idle_seconds)) < 0) {
    return -errno;
  }
  return 0;
}

int SetLingerZero(int fd) {
  // Close with a zero linger timeout discards unsent data and sends RST: an abortive close.
  linger l = {1, 0};
  return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) < 0 ? -errno : 0;
}

int GetAddress(int fd, bool peer, Address* out) {
  sockaddr_storage ss = {};
  socklen_t len = sizeof(ss);
  int ret = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                 : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ret < 0) return -errno;
  return FormatAddress(ss, out);
}

int CaptureAddresses(Socket* s) {
  // Zeroed first: a Unix address is read up to its NUL, and the slot may hold a longer old one.
  memset(&s->local_address, 0, sizeof(s->local_address));
  memset(&s->peer_address, 0, sizeof(s->peer_address));
  socklen_t len = sizeof(s->local_address);
  if (getsockname(s->fd, reinterpret_cast<sockaddr*>(&s->local_address), &len) < 0) return -errno;
  len = sizeof(s->peer_address);
  if (getpeername(s->fd, reinterpret_cast<sockaddr*>(&s->peer_address), &len) < 0) return -errno;
  s->has_addresses = true;
  return 0;
}

int FormatAddress(const sockaddr_storage& ss, Address* out) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    out->family = 4;
    out->port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    out->family = 6;
    out->port = ntohs(a->sin6_port);
  } else if (ss.ss_family == AF_UNIX) {
    // The path, an abstract name with its leading NUL, or empty for an unnamed socket.
    auto* a = reinterpret_cast<const sockaddr_un*>(&ss);
    const size_t room = sizeof(a->sun_path);
    const size_t skip = a->sun_path[0] == '\0' ? 1 : 0;
    const size_t len = skip + strnlen(a->sun_path + skip, room - skip);
    out->family = kFamilyUnix;
    out->port = 0;
    out->ip.assign(a->sun_path, skip == 1 && len == 1 ? 0 : len);
    return 0;
  } else {
    return -EAFNOSUPPORT;
  }
  out->ip = buf;
  return 0;
}

}  // namespace iolease
