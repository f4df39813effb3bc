#include "engine.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace iolease {
namespace {

bool Linked(const io_uring_sqe& sqe) { return (sqe.flags & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK)) != 0; }

}  // namespace

int Engine::Init(const EngineOptions& options, std::string* failed_call) {
  // The JavaScript side validates these too (POOL-2); the engine must never trust a caller with
  // its fixed-width encodings.
  if (options.classes.empty() || options.classes.size() > kMaxClasses) {
    *failed_call = "size classes";
    return -EINVAL;
  }
  for (const SizeClass& c : options.classes) {
    if (c.size == 0 || c.count == 0 || c.count > kMaxBuffersPerClass) {
      *failed_call = "size classes";
      return -EINVAL;
    }
  }
  faults_.Configure(options.faults);
  ring_.set_faults(faults_.enabled() ? &faults_ : nullptr);
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
    // Every class alike: the first class's registration settles what the kernel supports.
    const bool incremental = options.incremental && (i == 0 || classes_[0]->incremental());
    ret = br->Init(&ring_, static_cast<uint16_t>(i), options.classes[i].size, options.classes[i].count, incremental,
                   &call);
    if (ret < 0) {
      *failed_call = call;
      return ret;
    }
    total_buffers_ += options.classes[i].count;
    classes_.push_back(std::move(br));
  }
  touched_.assign(classes_.size(), 0);
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
  backlog_.clear();
  synthetic_.clear();
  sockets_.CloseAll();
  room_.Close();
  for (auto& br : classes_) br->Unregister();
  if (event_fd_ >= 0) {
    if (ring_.fd() >= 0) ring_.Register(IORING_UNREGISTER_EVENTFD, nullptr, 0);
    close(event_fd_);
    event_fd_ = -1;
  }
  ring_.Close();
}

bool Engine::Direct(uint32_t n) {
  // Once anything waits in the backlog, everything goes behind it, so operations keep their order.
  return backlog_.empty() && ring_.SqSpace() >= n && !faults_.Fire(Fault::kSqFull);
}

io_uring_sqe* Engine::Sqe(bool direct) {
  if (direct) return ring_.GetSqe();
  // A deque never moves its elements, so the pointer stays good while the caller fills it.
  shared_.counters[kBacklogged] += 1;
  backlog_.emplace_back();
  io_uring_sqe* sqe = &backlog_.back();
  *sqe = {};
  return sqe;
}

void Engine::MoveBacklog() {
  while (!backlog_.empty()) {
    // A link chain goes to the kernel in one submission or not at all: a chain cut at the end of
    // a submission would run its head without its tail.
    size_t chain = 1;
    while (chain <= backlog_.size() && Linked(backlog_[chain - 1])) chain++;
    if (chain > backlog_.size()) return;  // an incomplete chain: its tail is still being written
    if (ring_.SqSpace() < chain) return;
    for (size_t i = 0; i < chain; i++) {
      io_uring_sqe* sqe = ring_.GetSqe();
      *sqe = backlog_.front();
      backlog_.pop_front();
    }
  }
}

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
  const int fd = s->fd;
  io_uring_sqe* sqe = Sqe(Direct(1));
  sqe->opcode = IORING_OP_ACCEPT;
  sqe->fd = fd;
  sqe->ioprio = IORING_ACCEPT_MULTISHOT;
  sqe->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  sqe->user_data = EncodeUserData(OpKind::kAccept, slot, Generation(slot));
  return 0;
}

int Engine::Connect(int family, const std::string& ip, int port, bool no_delay) {
  auto addr = std::make_unique<sockaddr_storage>();
  socklen_t len = ParseAddress(family, ip, port, addr.get());
  if (len == 0) return -EINVAL;
  int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (no_delay) SetNoDelay(fd, true);
  uint32_t slot = sockets_.Add(fd);
  io_uring_sqe* sqe = Sqe(Direct(1));
  sqe->opcode = IORING_OP_CONNECT;
  sqe->fd = fd;
  sqe->addr = reinterpret_cast<uint64_t>(addr.get());
  sqe->off = len;
  sqe->user_data = EncodeUserData(OpKind::kConnect, slot, Generation(slot));
  sockets_.Get(slot)->connect_address = std::move(addr);  // the kernel may read it until the connect completes
  return static_cast<int>(slot);
}

int Engine::ArmRecv(uint32_t slot, uint32_t group, bool multishot) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  if (group >= classes_.size()) return -EINVAL;
  const uint64_t user_data = EncodeUserData(OpKind::kRecv, slot, s->generation, static_cast<uint8_t>(group));
  if (faults_.Fire(Fault::kArmNoBuffers)) {
    // As the kernel answers a receive armed on an empty ring: at once, without data.
    synthetic_.push_back(MakeRecord(user_data, -ENOBUFS));
    return 0;
  }
  s->recv_user_data = user_data;
  const int fd = s->fd;
  io_uring_sqe* sqe = Sqe(Direct(1));
  sqe->opcode = IORING_OP_RECV;
  sqe->fd = fd;
  // Multishot unless the channel limits the buffers it holds (PRESS-9): a multishot receive
  // fills a buffer for every chunk the socket has before a cancel could stop it.
  sqe->ioprio = multishot ? IORING_RECV_MULTISHOT : 0;
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = static_cast<uint16_t>(group);
  sqe->user_data = user_data;
  return 0;
}

int Engine::CancelRecv(uint32_t slot) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr) return -EBADF;
  const uint64_t target = s->recv_user_data;
  const uint16_t generation = s->generation;
  io_uring_sqe* sqe = Sqe(Direct(1));
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->addr = target;  // the socket's one armed receive
  sqe->user_data = EncodeUserData(OpKind::kRecvCancel, slot, generation);
  return 0;
}

int Engine::Send(uint32_t slot, const uint8_t* data, uint32_t len, bool zero_copy) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  const int fd = s->fd;
  if (!Direct(1)) return -EAGAIN;
  if (len > 1 && faults_.Fire(Fault::kShortSend)) len = 1 + faults_.Below(len - 1);
  io_uring_sqe* sqe = Sqe(true);
  sqe->opcode = zero_copy ? IORING_OP_SEND_ZC : IORING_OP_SEND;
  sqe->ioprio = zero_copy ? IORING_SEND_ZC_REPORT_USAGE : 0;
  sqe->fd = fd;
  sqe->addr = reinterpret_cast<uint64_t>(data);
  sqe->len = len;
  // DONTWAIT: the kernel completes at once with what the socket took, instead of keeping the
  // address to retry when JavaScript may have freed the memory (see Send in engine.h).
  sqe->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
  sqe->user_data = EncodeUserData(OpKind::kSend, slot, s->generation);
  return 0;
}

int Engine::SendVector(uint32_t slot, const iovec* iov, uint32_t count, bool zero_copy) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  if (count == 0 || count > kMaxIov) return -EINVAL;
  if (!Direct(1)) return -EAGAIN;
  if (!s->send_vector) s->send_vector = std::make_unique<SendMessage>();
  SendMessage* v = s->send_vector.get();
  for (uint32_t i = 0; i < count; i++) v->iov[i] = iov[i];
  if (faults_.Fire(Fault::kShortSend)) {
    // A partial send: keep a prefix of the vector, cutting its last chunk short.
    count = 1 + faults_.Below(count);
    iovec& last = v->iov[count - 1];
    if (last.iov_len > 1) last.iov_len = 1 + faults_.Below(static_cast<uint32_t>(last.iov_len - 1));
  }
  v->msg = {};
  v->msg.msg_iov = v->iov;
  v->msg.msg_iovlen = count;
  const int fd = s->fd;
  const uint16_t generation = s->generation;
  io_uring_sqe* sqe = Sqe(true);
  sqe->opcode = zero_copy ? IORING_OP_SENDMSG_ZC : IORING_OP_SENDMSG;
  sqe->ioprio = zero_copy ? IORING_SEND_ZC_REPORT_USAGE : 0;
  sqe->fd = fd;
  sqe->addr = reinterpret_cast<uint64_t>(&v->msg);
  sqe->len = 1;
  sqe->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
  sqe->user_data = EncodeUserData(OpKind::kSend, slot, generation);
  return 0;
}

int Engine::PollWritable(uint32_t slot) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  if (s->peer_half_closed) return WatchRoom(s, slot);
  const int fd = s->fd;
  const uint16_t generation = s->generation;
  io_uring_sqe* sqe = Sqe(Direct(1));
  sqe->opcode = IORING_OP_POLL_ADD;
  sqe->fd = fd;
  sqe->poll32_events = POLLOUT;
  sqe->user_data = EncodeUserData(OpKind::kWritable, slot, generation);
  return 0;
}

int Engine::WatchRoom(Socket* s, uint32_t slot) {
  const int ret = room_.Add(s->fd, EncodeUserData(OpKind::kWritable, slot, s->generation));
  if (ret < 0) return ret;
  s->room_watched = true;
  ArmRoomPoll();
  return 0;
}

void Engine::ArmRoomPoll() {
  if (room_poll_armed_ || !room_.watching()) return;
  io_uring_sqe* sqe = Sqe(Direct(1));
  sqe->opcode = IORING_OP_POLL_ADD;
  sqe->fd = room_.fd();
  sqe->poll32_events = POLLIN;
  sqe->user_data = EncodeUserData(OpKind::kRoomPoll, 0, 0);
  room_poll_armed_ = true;
}

int Engine::Shutdown(uint32_t slot) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  return ::shutdown(s->fd, SHUT_WR) < 0 ? -errno : 0;
}

int Engine::Close(uint32_t slot, bool abortive) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return -EBADF;
  const int fd = s->fd;
  const uint16_t generation = s->generation;
  if (abortive) SetLingerZero(fd);
  if (s->room_watched) {
    // No kernel operation stands for this wait, so the cancel below cannot end it: end it here,
    // as the cancel ends a poll in the kernel, or the channel would wait for it for good.
    room_.Remove(fd);
    s->room_watched = false;
    synthetic_.push_back(MakeRecord(EncodeUserData(OpKind::kWritable, slot, generation), -ECANCELED));
  }
  // The kernel owns closing the fd from here; the slot stays reserved until JavaScript frees it.
  s->fd = -1;
  // Hard link: the close must run even when there was nothing to cancel (-ENOENT). A chain cut
  // between two submissions would run its head alone, so both SQEs go to the same place, the SQ
  // or the backlog, and the backlog moves chains whole.
  const bool direct = Direct(2);
  io_uring_sqe* cancel = Sqe(direct);
  cancel->opcode = IORING_OP_ASYNC_CANCEL;
  cancel->fd = fd;
  cancel->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
  cancel->flags = IOSQE_IO_HARDLINK;
  cancel->user_data = EncodeUserData(OpKind::kCloseCancel, slot, generation);
  io_uring_sqe* close_sqe = Sqe(direct);
  close_sqe->opcode = IORING_OP_CLOSE;
  close_sqe->fd = fd;
  close_sqe->user_data = EncodeUserData(OpKind::kClose, slot, generation);
  return 0;
}

void Engine::InjectRecvEnd(uint32_t slot, uint64_t recv_user_data, bool reset) {
  Socket* s = sockets_.Get(slot);
  if (s == nullptr || s->fd < 0) return;
  if (reset) {
    // The receive ends now, with ECONNRESET, as if the peer had reset; whatever the kernel still
    // delivers for it is dropped (its buffers go back to the ring), as a reset discards it.
    s->fault_swallow_recv = true;
    synthetic_.push_back(MakeRecord(recv_user_data, -ECONNRESET));
  }
  io_uring_sqe* sqe = Sqe(Direct(1));
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->addr = recv_user_data;
  sqe->user_data = EncodeUserData(OpKind::kInternal, slot, s->generation);
}

bool Engine::EnterAndCount(PumpResult* result) {
  const int ret = ring_.Enter(true);
  shared_.counters[kSubmitCalls] += 1;
  if (ret >= 0) {
    shared_.counters[kSubmissions] += ret;
    return true;
  }
  if (ret == -EAGAIN || ret == -EBUSY) {
    // The kernel is short of resources or wants its CQ drained first; nothing was lost, the
    // SQEs stay queued and the pump retries.
    shared_.counters[kEnterRetries] += 1;
    return false;
  }
  result->error = ret;
  return false;
}

bool Engine::WorkQueuedUnsignalled(PumpResult* result) {
#if !defined(__x86_64__) && !defined(__i386__)
  // The kernel marks new work (IORING_SQ_TASKRUN) with an atomic OR that orders nothing on
  // weakly ordered CPUs, so its read of our flags may pass its store of its own, and reading
  // its flags here cannot rule out a signal it skipped. One more enter, with the signals on,
  // collects whatever was queued while they were off. On x86 that OR is a locked instruction,
  // a full barrier, and the flag read below suffices.
  EnterAndCount(result);
#else
  (void)result;
#endif
  uint32_t head;
  return ring_.CqReady(&head) > 0 || ring_.TaskrunPending() || ring_.CqOverflowPending() || !synthetic_.empty() ||
         Backlogged() || ring_.Unsubmitted() > 0 || ReturnsQueued();
}

void Engine::FlushReturns() {
  int32_t* q = shared_.returns;
  const uint32_t n = std::min(static_cast<uint32_t>(q[0]), shared_.returns_capacity);
  if (n == 0) return;
  for (uint32_t i = 1; i <= n; i++) {
    const uint32_t v = static_cast<uint32_t>(q[i]) & ~kReturnLastPiece;
    const uint32_t cls = v >> 16;
    const uint32_t bid = v & 0xffff;
    if (cls >= classes_.size() || bid >= classes_[cls]->count()) continue;
    BufferRing& br = *classes_[cls];
    // Incremental: one entry per piece; the buffer goes back with the last one the kernel is done with.
    if (br.incremental()) {
      if (!br.PieceBack(static_cast<uint16_t>(bid))) continue;
    } else {
      br.Recycle(static_cast<uint16_t>(bid));
    }
    touched_[cls] = 1;
  }
  q[0] = 0;
  for (size_t c = 0; c < classes_.size(); c++) {
    if (touched_[c] == 0) continue;
    touched_[c] = 0;
    classes_[c]->Publish();
  }
}

void Engine::DropBuffer(uint32_t group, uint32_t flags, int32_t res, uint32_t* count, uint32_t max) {
  if ((flags & IORING_CQE_F_BUFFER) == 0 || group >= classes_.size()) return;
  BufferRing& br = *classes_[group];
  const auto bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
  const uint32_t length = res > 0 ? static_cast<uint32_t>(res) : 0;
  if (!br.incremental()) {
    br.FilledUnseen(bid, length);
    br.Recycle(bid);
    br.Publish();
    return;
  }
  const bool more = (flags & kCqeFBufMore) != 0;
  br.Consume(bid, length, more);
  if (more) return;  // the kernel goes on filling it: the next piece says when it is done
  if (br.RequeueIfFree(bid)) {
    br.Publish();
    return;
  }
  // JavaScript holds pieces of it and counts it as the kernel's until it hears otherwise: tell it,
  // or it would wake waiters for a buffer the ring no longer has (PRESS-8).
  Emit(count, max, MakeRecord(EncodeUserData(OpKind::kBufferDone, 0, 0, static_cast<uint8_t>(group)), 0, flags));
}

bool Engine::DropIfStale(const io_uring_cqe& cqe, uint32_t* count, uint32_t max) {
  const uint32_t slot = UserDataSlot(cqe.user_data);
  const Socket* s = sockets_.Get(slot);
  if (s != nullptr && s->generation == UserDataGeneration(cqe.user_data)) return false;
  shared_.counters[kStaleCompletions] += 1;
  const uint32_t kind = UserDataKind(cqe.user_data);
  if (kind == static_cast<uint32_t>(OpKind::kRecv)) {
    DropBuffer(UserDataGroup(cqe.user_data), cqe.flags, cqe.res, count, max);
  } else if (kind == static_cast<uint32_t>(OpKind::kAccept) && cqe.res >= 0) {
    close(cqe.res);
  }
  return true;
}

void Engine::Emit(uint32_t* count, uint32_t max, const Record& record) {
  if (*count >= max) {
    synthetic_.push_back(record);
    return;
  }
  WriteRecord(shared_.batch + (*count)++ * kRecordWords, record);
}

void Engine::WriteRecord(int32_t* r, const Record& record) {
  r[kFieldKind] = static_cast<int32_t>(UserDataKind(record.user_data) | (UserDataGroup(record.user_data) << 8));
  r[kFieldSlot] = static_cast<int32_t>(UserDataSlot(record.user_data));
  r[kFieldRes] = record.res;
  r[kFieldFlags] = static_cast<int32_t>(record.flags);
  r[kFieldOffset] = static_cast<int32_t>(record.offset);
}

uint32_t Engine::DrainInto(uint32_t max) {
  int32_t* out = shared_.batch;
  uint32_t count = 0;
  // Made-up completions first: they stand for results the kernel would have given at once.
  size_t used = 0;
  for (; used < synthetic_.size() && count < max; used++) WriteRecord(out + count++ * kRecordWords, synthetic_[used]);
  synthetic_.erase(synthetic_.begin(), synthetic_.begin() + static_cast<ptrdiff_t>(used));

  uint32_t head;
  const uint32_t ready = ring_.CqReady(&head);
  uint32_t consumed = 0;
  for (; consumed < ready && count < max; consumed++) {
    const io_uring_cqe& cqe = ring_.CqeAt(head + consumed);
    const uint32_t kind = UserDataKind(cqe.user_data);
    if (kind == static_cast<uint32_t>(OpKind::kRoomPoll)) {
      room_poll_armed_ = false;
      if (cqe.res < 0) {
        // The poll of the epoll instance itself failed: re-arming could fail the same way at
        // once, forever, so every channel waiting there gets the error instead.
        for (uint32_t slot = 0; slot < sockets_.slot_count(); slot++) {
          Socket* s = sockets_.Get(slot);
          if (s == nullptr || !s->room_watched) continue;
          room_.Remove(s->fd);
          s->room_watched = false;
          Emit(&count, max, MakeRecord(EncodeUserData(OpKind::kWritable, slot, s->generation), cqe.res));
        }
        continue;
      }
      room_.Collect([&](uint64_t user_data, uint32_t events) {
        Socket* s = sockets_.Get(UserDataSlot(user_data));
        if (s == nullptr || s->generation != UserDataGeneration(user_data) || !s->room_watched) return;
        room_.Remove(s->fd);
        s->room_watched = false;
        Emit(&count, max, MakeRecord(user_data, static_cast<int32_t>(events & (POLLOUT | POLLERR | POLLHUP))));
      });
      ArmRoomPoll();
      continue;
    }
    if (kind == static_cast<uint32_t>(OpKind::kInternal) || DropIfStale(cqe, &count, max)) continue;
    const uint32_t slot = UserDataSlot(cqe.user_data);
    int32_t res = cqe.res;
    uint32_t flags = cqe.flags;
    uint32_t offset = 0;
    if (kind == static_cast<uint32_t>(OpKind::kWritable) && res >= 0 && (res & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)) == 0) {
      // Only POLLRDHUP: the peer half-closed, and says nothing about room. Wait in the RoomWatch.
      Socket* s = sockets_.Get(slot);
      s->peer_half_closed = true;
      if (s->fd >= 0) {
        res = WatchRoom(s, slot);
        if (res == 0) continue;
      }
    }
    if (kind == static_cast<uint32_t>(OpKind::kAccept) && res >= 0) {
      // The kernel's fd becomes a slot here, so JavaScript never handles raw descriptors.
      const bool no_delay = sockets_.Get(slot)->no_delay;
      if (no_delay) SetNoDelay(res, true);
      res = static_cast<int32_t>(sockets_.Add(res));
      CaptureAddresses(sockets_.Get(static_cast<uint32_t>(res)));
    } else if (kind == static_cast<uint32_t>(OpKind::kConnect)) {
      Socket* s = sockets_.Get(slot);
      if (res == 0 && s->fd >= 0) CaptureAddresses(s);
      s->connect_address.reset();
    } else if (kind == static_cast<uint32_t>(OpKind::kRecv)) {
      Socket* s = sockets_.Get(slot);
      if (s->fault_swallow_recv) {
        DropBuffer(UserDataGroup(cqe.user_data), flags, res, &count, max);
        if ((flags & IORING_CQE_F_MORE) == 0) s->fault_swallow_recv = false;
        continue;
      }
      if ((flags & IORING_CQE_F_MORE) != 0 && res > 0 && s->fd >= 0 && faults_.Fire(Fault::kResetRecv)) {
        // The reset discards this completion's bytes too, as unseen: for an incremental buffer
        // that may finish a buffer whose earlier pieces are still leased (kBufferDone).
        InjectRecvEnd(slot, cqe.user_data, true);
        DropBuffer(UserDataGroup(cqe.user_data), flags, res, &count, max);
        continue;
      }
      if ((flags & IORING_CQE_F_BUFFER) != 0 && UserDataGroup(cqe.user_data) < classes_.size()) {
        BufferRing& br = *classes_[UserDataGroup(cqe.user_data)];
        const auto bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
        if (res <= 0) {
          // A buffer with no bytes is no lease: JavaScript takes only receives that carry data.
          DropBuffer(UserDataGroup(cqe.user_data), flags, res, &count, max);
          flags &= ~IORING_CQE_F_BUFFER;
        } else if (br.incremental()) {
          offset = br.Consume(bid, static_cast<uint32_t>(res), (flags & kCqeFBufMore) != 0);
          br.PieceOut(bid);
        } else {
          br.Filled(bid, static_cast<uint32_t>(res));
        }
      }
      if ((flags & IORING_CQE_F_MORE) != 0 && res > 0 && s->fd >= 0) {
        if (faults_.Fire(Fault::kCancelRecv)) InjectRecvEnd(slot, cqe.user_data, false);
      }
    }
    Emit(&count, max, MakeRecord(cqe.user_data, res, flags, offset));
  }
  if (consumed > 0) ring_.CqAdvance(head + consumed);
  if (count > 0) {
    shared_.counters[kCompletions] += count;
    shared_.counters[kBatches] += 1;
  }
  return count;
}

}  // namespace iolease
