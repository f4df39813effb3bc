// Waiting for room in a socket whose peer has half-closed. io_uring's poll always reports
// POLLRDHUP, asked for or not (the kernel's IO_POLL_UNMASK), so once the peer's FIN has arrived a
// poll for POLLOUT completes at once whether or not the socket has room: a channel waiting that
// way would retry its send, be told EAGAIN and poll again, forever, at full CPU (spec LOOP-3).
// An epoll instance reports only what it is asked for, so it does the waiting for those sockets,
// and io_uring polls the epoll instance itself. It exists only while such a socket waits.
#pragma once

#include <sys/epoll.h>

#include <cstdint>

namespace iolease {

class RoomWatch {
 public:
  RoomWatch() = default;
  RoomWatch(const RoomWatch&) = delete;
  RoomWatch& operator=(const RoomWatch&) = delete;
  ~RoomWatch() { Close(); }

  // Watches fd until it has room (or an error); `tag` comes back from Collect. -errno on failure.
  int Add(int fd, uint64_t tag);
  // Stops watching fd; call it before fd is closed.
  void Remove(int fd);
  // The epoll fd for io_uring to poll for POLLIN, valid while watching().
  int fd() const { return epoll_fd_; }
  bool watching() const { return watched_ > 0; }
  // Calls ready(tag, events) for each watched fd that has room or an error, and stops watching it.
  template <typename Ready>
  void Collect(Ready&& ready);
  void Close();

 private:
  int epoll_fd_ = -1;
  uint32_t watched_ = 0;
};

template <typename Ready>
void RoomWatch::Collect(Ready&& ready) {
  if (epoll_fd_ < 0) return;
  epoll_event events[64];
  for (;;) {
    const int n = epoll_wait(epoll_fd_, events, 64, 0);
    for (int i = 0; i < n; i++) {
      // EPOLLONESHOT disarmed it; the owner removes it, and may watch it again later.
      ready(events[i].data.u64, events[i].events);
    }
    if (n < 64) return;
  }
}

}  // namespace iolease
