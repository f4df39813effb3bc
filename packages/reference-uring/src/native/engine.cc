#include "engine.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace iolease {

int Engine::Init(const EngineOptions& options, std::string* failed_call) {
  int ret = ring_.Init(options.ring, failed_call);
  if (ret < 0) return ret;
  if (!ring_.SupportsOp(IORING_OP_SEND) || !ring_.SupportsOp(IORING_OP_ACCEPT) ||
      !ring_.SupportsOp(IORING_OP_CONNECT) || !ring_.SupportsOp(IORING_OP_ASYNC_CANCEL)) {
    *failed_call = "io_uring probe (send, accept, connect, async cancel)";
    return -EOPNOTSUPP;
  }
  for (size_t i = 0; i < options.classes.size(); i++) {
    auto br = std::make_unique<BufferRing>();
    const char* call = nullptr;
    ret = br->Init(&ring_, static_cast<uint16_t>(i), options.classes[i].size, options.classes[i].count, &call);
    if (ret < 0) {
      *failed_call = call;
      return ret;
    }
    total_buffers_ += options.classes[i].count;
    classes_.push_back(std::move(br));
  }
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) {
    *failed_call = "eventfd";
    return -errno;
  }
  ret = ring_.Register(IORING_REGISTER_EVENTFD, &event_fd_, 1);
  if (ret < 0) {
    *failed_call = "io_uring_register(EVENTFD)";
    return ret;
  }
  return 0;
}

void Engine::Destroy() {
  if (destroyed_) return;
  destroyed_ = true;
  sockets_.CloseAll();
  for (auto& br : classes_) br->Unregister();
  if (event_fd_ >= 0) {
    if (ring_.fd() >= 0) ring_.Register(IORING_UNREGISTER_EVENTFD, nullptr, 0);
    close(event_fd_);
    event_fd_ = -1;
  }
  ring_.Close();
}

bool Engine::Reserve(uint32_t n) {
  if (ring_.SqSpace() >= n) return true;
  // SQ full: submit without GETEVENTS. Completions stay for the next pump, which JavaScript
  // schedules after every operation it queues.
  int ret = ring_.Enter(false);
  shared_.counters[kSubmitCalls] += 1;
  if (ret > 0) shared_.counters[kSubmissions] += ret;
  return ring_.SqSpace() >= n;
}

io_uring_sqe* Engine::Sqe() { return Reserve(1) ? ring_.GetSqe() : nullptr; }

int Engine::Listen(int family, const std::string& ip, int port, int backlog, bool reuse_port, bool ipv6_only,
                   bool no_delay, const char** failed_call) {
  sockaddr_storage addr;
  socklen_t len = ParseAddress(family, ip, port, &addr);
  if (len == 0) {
    *failed_call = "listen";
    return -EINVAL;
  }
  int fd = ListenSocket(addr, len, backlog, reuse_port, ipv6_only, failed_call);
  if (fd < 0) return fd;
  uint32_t slot = sockets_.Add(fd);
  sockets_.Get(slot)->no_delay = no_delay;
  return static_cast<int>(slot);
}

int Engine::ArmAccept(uint32_t slot) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return -EBUSY;
  sqe->opcode = IORING_OP_ACCEPT;
  sqe->fd = s->fd;
  sqe->ioprio = IORING_ACCEPT_MULTISHOT;
  sqe->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  sqe->user_data = EncodeUserData(OpKind::kAccept, slot);
  return 0;
}

int Engine::Connect(int family, const std::string& ip, int port, bool no_delay) {
  auto addr = std::make_unique<sockaddr_storage>();
  socklen_t len = ParseAddress(family, ip, port, addr.get());
  if (len == 0) return -EINVAL;
  int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (no_delay) SetNoDelay(fd, true);
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) {
    close(fd);
    return -EBUSY;
  }
  uint32_t slot = sockets_.Add(fd);
  Socket* s = sockets_.Get(slot);
  sqe->opcode = IORING_OP_CONNECT;
  sqe->fd = fd;
  sqe->addr = reinterpret_cast<uint64_t>(addr.get());
  sqe->off = len;
  sqe->user_data = EncodeUserData(OpKind::kConnect, slot);
  s->connect_address = std::move(addr);  // the kernel may read it until the connect completes
  return static_cast<int>(slot);
}

int Engine::ArmRecv(uint32_t slot, uint16_t group) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  if (group >= classes_.size()) return -EINVAL;
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return -EBUSY;
  sqe->opcode = IORING_OP_RECV;
  sqe->fd = s->fd;
  sqe->ioprio = IORING_RECV_MULTISHOT;
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = group;
  sqe->user_data = EncodeUserData(OpKind::kRecv, slot);
  return 0;
}

int Engine::CancelRecv(uint32_t slot) {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return -EBUSY;
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->addr = EncodeUserData(OpKind::kRecv, slot);
  sqe->user_data = EncodeUserData(OpKind::kRecvCancel, slot);
  return 0;
}

int Engine::Send(uint32_t slot, const uint8_t* data, uint32_t len) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return -EBUSY;
  sqe->opcode = IORING_OP_SEND;
  sqe->fd = s->fd;
  sqe->addr = reinterpret_cast<uint64_t>(data);
  sqe->len = len;
  // WAITALL: the kernel retries a short send on a stream socket itself, so a partial
  // completion (still handled by the caller) becomes rare.
  sqe->msg_flags = MSG_WAITALL | MSG_NOSIGNAL;
  sqe->user_data = EncodeUserData(OpKind::kSend, slot);
  return 0;
}

int Engine::SendVector(uint32_t slot, const iovec* iov, uint32_t count) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  if (count == 0 || count > kMaxIov) return -EINVAL;
  if (!s->send_vector) s->send_vector = std::make_unique<SendMessage>();
  SendMessage* v = s->send_vector.get();
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return -EBUSY;
  for (uint32_t i = 0; i < count; i++) v->iov[i] = iov[i];
  v->msg = {};
  v->msg.msg_iov = v->iov;
  v->msg.msg_iovlen = count;
  sqe->opcode = IORING_OP_SENDMSG;
  sqe->fd = s->fd;
  sqe->addr = reinterpret_cast<uint64_t>(&v->msg);
  sqe->len = 1;
  sqe->msg_flags = MSG_WAITALL | MSG_NOSIGNAL;
  sqe->user_data = EncodeUserData(OpKind::kSend, slot);
  return 0;
}

int Engine::Shutdown(uint32_t slot) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  return ::shutdown(s->fd, SHUT_WR) < 0 ? -errno : 0;
}

int Engine::Close(uint32_t slot, bool abortive) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  // Both SQEs go into the same submission, or the hard link would dangle.
  if (!Reserve(2)) return -EBUSY;
  if (abortive) SetLingerZero(s->fd);
  io_uring_sqe* cancel = ring_.GetSqe();
  cancel->opcode = IORING_OP_ASYNC_CANCEL;
  cancel->fd = s->fd;
  cancel->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
  // Hard link: the close must run even when there was nothing to cancel (-ENOENT).
  cancel->flags = IOSQE_IO_HARDLINK;
  cancel->user_data = EncodeUserData(OpKind::kCloseCancel, slot);
  io_uring_sqe* close_sqe = ring_.GetSqe();
  close_sqe->opcode = IORING_OP_CLOSE;
  close_sqe->fd = s->fd;
  close_sqe->user_data = EncodeUserData(OpKind::kClose, slot);
  // The kernel owns closing the fd now; the slot stays reserved until JavaScript frees it.
  s->fd = -1;
  return 0;
}

void Engine::FlushReturns() {
  int32_t* q = shared_.returns;
  const int32_t n = q[0];
  if (n == 0) return;
  bool touched[256] = {};
  for (int32_t i = 1; i <= n; i++) {
    const uint32_t v = static_cast<uint32_t>(q[i]);
    const uint32_t cls = v >> 16;
    if (cls >= classes_.size()) continue;
    classes_[cls]->Recycle(static_cast<uint16_t>(v & 0xffff));
    touched[cls] = true;
  }
  q[0] = 0;
  for (size_t c = 0; c < classes_.size(); c++) {
    if (touched[c]) classes_[c]->Publish();
  }
}

uint32_t Engine::DrainInto(uint32_t max) {
  uint32_t head;
  uint32_t ready = ring_.CqReady(&head);
  if (ready > max) ready = max;
  int32_t* out = shared_.batch;
  for (uint32_t i = 0; i < ready; i++) {
    const io_uring_cqe& cqe = ring_.CqeAt(head + i);
    const uint32_t kind = UserDataKind(cqe.user_data);
    const uint32_t slot = UserDataSlot(cqe.user_data);
    int32_t res = cqe.res;
    if (kind == static_cast<uint32_t>(OpKind::kAccept) && res >= 0) {
      // The kernel's fd becomes a slot here, so JavaScript never handles raw descriptors.
      Socket* listener = sockets_.Get(slot);
      const bool no_delay = listener == nullptr || listener->no_delay;
      if (no_delay) SetNoDelay(res, true);
      res = static_cast<int32_t>(sockets_.Add(res));
    } else if (kind == static_cast<uint32_t>(OpKind::kConnect)) {
      Socket* s = sockets_.Get(slot);
      if (s != nullptr) s->connect_address.reset();
    }
    int32_t* r = out + i * kRecordWords;
    r[kFieldKind] = static_cast<int32_t>(kind);
    r[kFieldSlot] = static_cast<int32_t>(slot);
    r[kFieldRes] = res;
    r[kFieldFlags] = static_cast<int32_t>(cqe.flags);
  }
  if (ready > 0) {
    ring_.CqAdvance(head + ready);
    shared_.counters[kCompletions] += ready;
    shared_.counters[kBatches] += 1;
  }
  return ready;
}

}  // namespace iolease
