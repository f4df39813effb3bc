#include "room_watch.h"

#include <errno.h>
#include <unistd.h>

namespace iolease {

int RoomWatch::Add(int fd, uint64_t tag) {
  if (epoll_fd_ < 0) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return -errno;
  }
  // Level-triggered and one-shot: it fires once there is room, even if there already is.
  epoll_event event = {};
  event.events = EPOLLOUT | EPOLLONESHOT;
  event.data.u64 = tag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) < 0) {
    if (errno != EEXIST || epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) < 0) return -errno;
    return 0;
  }
  watched_++;
  return 0;
}

void RoomWatch::Remove(int fd) {
  if (epoll_fd_ < 0 || watched_ == 0) return;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr) == 0) watched_--;
}

void RoomWatch::Close() {
  if (epoll_fd_ >= 0) close(epoll_fd_);
  epoll_fd_ = -1;
  watched_ = 0;
}

}  // namespace iolease
