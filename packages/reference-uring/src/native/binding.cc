// The only file that knows about Node: wraps Engine as a JavaScript class, shares the batch,
// the release queue and the counters as ArrayBuffers, hands out each pool buffer's memory as its own ArrayBuffer, and watches the ring's
// eventfd with a libuv poll handle so completions are pumped from Node's own event loop.
// node-addon-api is third-party code; keep our warning flags for our own code only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#include <napi.h>
#pragma GCC diagnostic pop
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "engine.h"
#include "loop_handles.h"
#include "pool_memory.h"

namespace iolease {
namespace {

// Records per batch: enough that a busy drain crosses into JavaScript rarely, small enough to
// stay in cache (64 KiB).
constexpr uint32_t kBatchCapacity = 4096;

// The most one send asks of the kernel per view; Linux caps one send at about 2 GiB anyway.
constexpr size_t kMaxSendBytes = size_t{1} << 30;

// libuv's names are Node's own (err.code of node:net), and unlike strerrorname_np (glibc 2.32)
// they keep the prebuilt addon loadable on the glibc 2.28 that Node itself requires.
std::string ErrnoName(int err) {
  char name[64];
  uv_err_name_r(-err, name, sizeof name);
  return std::strncmp(name, "Unknown", 7) == 0 ? "EUNKNOWN" : name;
}

Napi::Error SystemError(Napi::Env env, int negative_errno, const std::string& call) {
  const int err = -negative_errno;
  Napi::Error e = Napi::Error::New(env, call + " " + ErrnoName(err) + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, negative_errno));
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("syscall", Napi::String::New(env, call));
  return e;
}

// What a call into JavaScript from the pump can end in, besides returning: the function threw
// (the error, taken from the environment), or the environment can no longer run JavaScript.
struct JsThrew {
  napi_value error;
};
struct JsUnavailable {};

// Calls fn with the loop's object as `this`, through the C API: node-addon-api turns a failed
// call into a Napi::Error, whose construction itself aborts the process when the environment is
// being torn down (worker.terminate() during a pump). Throws JsThrew or JsUnavailable.
napi_value CallJsOn(napi_env env, napi_value self, napi_value fn, size_t argc, const napi_value* argv,
                    napi_async_context context) {
  napi_value result = nullptr;
  const napi_status status = context != nullptr ? napi_make_callback(env, context, self, fn, argc, argv, &result)
                                                : napi_call_function(env, self, fn, argc, argv, &result);
  if (status == napi_ok) return result;
  napi_value error = nullptr;
  if (status == napi_pending_exception && napi_get_and_clear_last_exception(env, &error) == napi_ok &&
      error != nullptr) {
    throw JsThrew{error};
  }
  throw JsUnavailable{};
}

class NativeLoop : public Napi::ObjectWrap<NativeLoop> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeLoop",
                       {
                           InstanceMethod<&NativeLoop::Listen>("listen"),
                           InstanceMethod<&NativeLoop::ArmAccept>("armAccept"),
                           InstanceMethod<&NativeLoop::Connect>("connect"),
                           InstanceMethod<&NativeLoop::ArmRecv>("armRecv"),
                           InstanceMethod<&NativeLoop::CancelRecv>("cancelRecv"),
                           InstanceMethod<&NativeLoop::PollWritable>("pollWritable"),
                           InstanceMethod<&NativeLoop::Shutdown>("shutdown"),
                           InstanceMethod<&NativeLoop::Close>("close"),
                           InstanceMethod<&NativeLoop::FreeSlot>("freeSlot"),
                           InstanceMethod<&NativeLoop::SetNoDelay>("setNoDelay"),
                           InstanceMethod<&NativeLoop::SetKeepAlive>("setKeepAlive"),
                           InstanceMethod<&NativeLoop::Address>("address"),
                           InstanceMethod<&NativeLoop::Pump>("pump"),
                           InstanceMethod<&NativeLoop::Ref>("ref"),
                           InstanceMethod<&NativeLoop::Unref>("unref"),
                           InstanceMethod<&NativeLoop::Features>("features"),
                           InstanceMethod<&NativeLoop::FaultsFired>("faultsFired"),
                           InstanceMethod<&NativeLoop::BufferMemory>("bufferMemory"),
                           InstanceMethod<&NativeLoop::FlushReturns>("flushReturns"),
                           InstanceMethod<&NativeLoop::Destroy>("destroy"),
                       });
  }

  // new NativeLoop({ sqEntries, cqEntries, classes: [{ size, count }], incremental, onBatch })
  // `incremental`: incremental buffer consumption where the kernel has it.
  explicit NativeLoop(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeLoop>(info) {
    Napi::Env env = info.Env();
    Napi::Object options = info[0].As<Napi::Object>();
    EngineOptions eo;
    eo.ring.sq_entries = options.Get("sqEntries").As<Napi::Number>().Uint32Value();
    eo.ring.cq_entries = options.Get("cqEntries").As<Napi::Number>().Uint32Value();
    Napi::Array classes = options.Get("classes").As<Napi::Array>();
    for (uint32_t i = 0; i < classes.Length(); i++) {
      Napi::Object c = classes.Get(i).As<Napi::Object>();
      eo.classes.push_back({c.Get("size").As<Napi::Number>().Uint32Value(),
                            c.Get("count").As<Napi::Number>().Uint32Value()});
    }
    eo.incremental = options.Get("incremental").ToBoolean();
    on_batch_ = Napi::Persistent(options.Get("onBatch").As<Napi::Function>());
    // Optional: a loop that never sends (the package's own engine tests) needs none.
    Napi::Value on_flush = options.Get("onFlush");
    if (on_flush.IsFunction()) on_flush_ = Napi::Persistent(on_flush.As<Napi::Function>());
    eo.faults = getenv("IOLEASE_FAULTS");  // read by the test build only (faults.h)

    std::string failed_call;
    int ret = engine_.Init(eo, &failed_call);
    if (ret < 0) {
      engine_.Destroy();
      throw SystemError(env, ret, failed_call);
    }

    // Shared memory is JavaScript-owned (V8 backing stores never move); the references below
    // keep it alive as long as the engine may write to it.
    Napi::ArrayBuffer batch = Napi::ArrayBuffer::New(env, kBatchCapacity * kRecordWords * sizeof(int32_t));
    Napi::ArrayBuffer returns = Napi::ArrayBuffer::New(env, (engine_.total_buffers() + 1) * sizeof(int32_t));
    Napi::ArrayBuffer counters = Napi::ArrayBuffer::New(env, kCounterCount * sizeof(double));
    Napi::ArrayBuffer signals = Napi::ArrayBuffer::New(env, 2 * sizeof(int32_t));
    sends_queued_ = static_cast<int32_t*>(signals.Data());
    *sends_queued_ = 0;
    pumping_ = sends_queued_ + 1;
    *pumping_ = 0;
    SharedMemory shared;
    shared.batch = static_cast<int32_t*>(batch.Data());
    shared.batch_capacity = kBatchCapacity;
    shared.returns = static_cast<int32_t*>(returns.Data());
    shared.returns_capacity = engine_.total_buffers();
    shared.counters = static_cast<double*>(counters.Data());
    memset(shared.returns, 0, returns.ByteLength());
    memset(shared.counters, 0, counters.ByteLength());
    engine_.SetShared(shared);
    shared_refs_.push_back(Napi::Persistent(batch.As<Napi::Object>()));
    shared_refs_.push_back(Napi::Persistent(returns.As<Napi::Object>()));
    shared_refs_.push_back(Napi::Persistent(counters.As<Napi::Object>()));
    shared_refs_.push_back(Napi::Persistent(signals.As<Napi::Object>()));

    // Pool memory: each class's area is held by the loop and by every ArrayBuffer bufferMemory
    // hands out, and unmapped after the last of them lets go (pool_memory.h).
    for (uint32_t i = 0; i < engine_.class_count(); i++) {
      BufferRing& br = engine_.buffer_ring(i);
      memory_.push_back({new PoolMemory(br.TakeData(), br.data_size()), br.size(), br.count()});
    }

    Napi::Object self = info.This().As<Napi::Object>();
    self.Set("batch", Napi::Int32Array::New(env, kBatchCapacity * kRecordWords, batch, 0));
    self.Set("returns", Napi::Int32Array::New(env, engine_.total_buffers() + 1, returns, 0));
    self.Set("counters", Napi::Float64Array::New(env, kCounterCount, counters, 0));
    self.Set("sendsQueued", Napi::Int32Array::New(env, 1, signals, 0));
    self.Set("pumping", Napi::Int32Array::New(env, 1, signals, sizeof(int32_t)));

    context_ = std::make_unique<Napi::AsyncContext>(env, "iolease:uring");
    handles_ = LoopHandles::Open(env, engine_.eventfd(), this, &NativeLoop::OnPoll, &NativeLoop::OnEnvCleanup);
    // Last, so that no function can hold a loop whose construction failed.
    DefineHotCall(env, self, "send", &NativeLoop::Send);
    DefineHotCall(env, self, "sendVector", &NativeLoop::SendVector);
  }

  ~NativeLoop() override {
    if (hot_target_ != nullptr) {
      hot_target_->loop = nullptr;  // a hot call that outlives the loop finds it gone
      LetGo(hot_target_);
    }
    Teardown();
    ReleaseMemory();
  }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<NativeLoop*>(handle->data);
    if (self == nullptr || status < 0) return;
    uint64_t value;
    // Clears the eventfd; the pump then drains every completion (see Engine::Pump).
    while (read(self->engine_.eventfd(), &value, sizeof(value)) < 0 && errno == EINTR) {
    }
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    self->RunPump(env, true);
  }

  // The environment ends with the loop still open (process exit, a worker terminated).
  static void OnEnvCleanup(void* arg) { static_cast<NativeLoop*>(arg)->Teardown(); }

  void RunPump(Napi::Env env, bool woken) {
    PumpResult result;
    bool threw = false;
    struct PumpingMark {
      int32_t* flag;
      int32_t before;
      ~PumpingMark() { *flag = before; }
    };
    try {
      PumpingMark mark{pumping_, *pumping_};
      *pumping_ = 1;
      result = engine_.Pump(
          woken,
          [&]() {
            // Right before the enter, with no JavaScript to run in between: the sends queued
            // since the last one take their memory's addresses now (WRITE-12). A plain call, not
            // MakeCallback, so no microtask runs between it and the kernel.
            if (*sends_queued_ == 0 || on_flush_.IsEmpty()) return false;
            napi_value sent = CallJs(env, on_flush_.Value(), 0, nullptr, false);
            bool flushed = false;
            napi_get_value_bool(env, sent, &flushed);
            return flushed;
          },
          [&](uint32_t n) {
            napi_value count;
            napi_create_uint32(env, n, &count);
            CallJs(env, on_batch_.Value(), 1, &count, true);
          });
    } catch (const JsThrew& e) {
      // The JavaScript side catches each record's errors itself (LOOP-5), so this is a defect
      // of the loop: report it as Node reports any uncaught exception, and keep pumping, since
      // the engine's guard is reset and the CQ may hold more.
      threw = true;
      napi_fatal_exception(env, e.error);
    } catch (const JsUnavailable&) {
      // The environment is ending (a worker terminated mid-pump): no JavaScript will run here
      // again, and its cleanup hook tears the loop down. Creating an error now would abort.
      return;
    }
    if (torn_down_) return;
    if (result.error < 0) {
      napi_fatal_exception(env, SystemError(env, result.error, "io_uring_enter").Value());
    }
    if (threw || result.again || result.error < 0) {
      // Who wakes the next pump: work is left in the kernel or the backlog that no eventfd
      // signal may announce. Retry at once, then back off while the kernel keeps refusing.
      const uint64_t delay = retries_ == 0 ? 0 : std::min<uint64_t>(uint64_t{1} << (retries_ - 1), 64);
      retries_++;
      uv_timer_start(handles_->retry(), &NativeLoop::OnRetry, delay, 0);
    } else {
      retries_ = 0;
      // Its share of this turn spent, the pump goes on in the next one, after timers and other I/O.
      if (result.yielded) uv_timer_start(handles_->retry(), &NativeLoop::OnRetry, 0, 0);
    }
  }

  static void OnRetry(uv_timer_t* handle) {
    auto* self = static_cast<NativeLoop*>(handle->data);
    if (self == nullptr || self->torn_down_) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    self->RunPump(env, true);
  }

  void Teardown() {
    if (torn_down_) return;
    torn_down_ = true;
    engine_.Destroy();
    if (handles_ != nullptr) {
      handles_->Close();  // frees itself once libuv is done with the handles
      handles_ = nullptr;
    }
  }

  // A pump callback: through MakeCallback (async context, microtasks after) when `as_callback`.
  napi_value CallJs(napi_env env, napi_value fn, size_t argc, const napi_value* argv, bool as_callback) {
    return CallJsOn(env, Value(), fn, argc, argv, as_callback ? static_cast<napi_async_context>(*context_) : nullptr);
  }

  // The calls made once per message (a send) are functions of the instance's own, not methods
  // of the class: ObjectWrap finds a method's C++ object by a private-property lookup on every
  // call, about a tenth of the loop's user-space time in an echo benchmark. A hot call reaches
  // the loop through a HotTarget instead, which the loop clears when it is destroyed, so a
  // function kept past its loop's end throws rather than reading freed memory.
  using HotCall = Napi::Value (NativeLoop::*)(const Napi::CallbackInfo&);
  // Held by the loop and by each hot function, freed by whichever lets go last. Not a
  // shared_ptr: its reference counts ask glibc 2.32 (__libc_single_threaded), newer than the
  // prebuilds may need (scripts/prebuild.mjs); all holders live on the JavaScript thread.
  struct HotTarget {
    NativeLoop* loop;
    uint32_t holders;
  };
  struct HotCallData {
    HotTarget* target;
    HotCall call;
  };
  static void LetGo(HotTarget* target) {
    if (--target->holders == 0) delete target;
  }

  void DefineHotCall(Napi::Env env, Napi::Object self, const char* name, HotCall call) {
    if (hot_target_ == nullptr) hot_target_ = new HotTarget{this, 1};
    hot_target_->holders++;
    auto* data = new HotCallData{hot_target_, call};
    Napi::Function fn = Napi::Function::New(
        env,
        [](const Napi::CallbackInfo& info) -> Napi::Value {
          const auto* d = static_cast<const HotCallData*>(info.Data());
          NativeLoop* loop = d->target->loop;
          if (loop == nullptr) throw Napi::Error::New(info.Env(), "the native loop is destroyed");
          return (loop->*(d->call))(info);
        },
        name, data);
    fn.AddFinalizer(
        [](Napi::Env, HotCallData* d) {
          LetGo(d->target);
          delete d;
        },
        data);
    self.Set(name, fn);
  }

  bool Alive(const Napi::CallbackInfo& info) {
    if (!torn_down_) return true;
    throw Napi::Error::New(info.Env(), "the native loop is destroyed");
  }

  static uint32_t U32(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Uint32Value(); }
  static int32_t I32(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
  Napi::Value Int(const Napi::CallbackInfo& info, int v) { return Napi::Number::New(info.Env(), v); }

  // listen(family, ip, port, backlog, reusePort, ipv6Only, noDelay) -> slot; throws a system error
  Napi::Value Listen(const Napi::CallbackInfo& info) {
    Alive(info);
    const char* call = "listen";
    int ret = engine_.Listen(I32(info, 0), info[1].As<Napi::String>().Utf8Value(), I32(info, 2), I32(info, 3),
                             info[4].ToBoolean(), info[5].ToBoolean(), info[6].ToBoolean(), &call);
    if (ret < 0) throw SystemError(info.Env(), ret, call);
    return Int(info, ret);
  }
  Napi::Value ArmAccept(const Napi::CallbackInfo& info) { return Int(info, Alive(info) ? engine_.ArmAccept(U32(info, 0)) : 0); }
  // connect(family, ip, port, noDelay) -> slot or -errno
  Napi::Value Connect(const Napi::CallbackInfo& info) {
    Alive(info);
    return Int(info, engine_.Connect(I32(info, 0), info[1].As<Napi::String>().Utf8Value(), I32(info, 2),
                                     info[3].ToBoolean()));
  }
  Napi::Value ArmRecv(const Napi::CallbackInfo& info) {
    Alive(info);
    return Int(info, engine_.ArmRecv(U32(info, 0), U32(info, 1), info.Length() < 3 || info[2].ToBoolean()));
  }
  Napi::Value CancelRecv(const Napi::CallbackInfo& info) { return Int(info, Alive(info) ? engine_.CancelRecv(U32(info, 0)) : 0); }

  // send(slot, Uint8Array) -> 0 or -errno. The caller keeps the array alive until completion.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Alive(info);
    // Longer views go out in parts: the caller resumes a short send (WRITE-6).
    const iovec view = View(info.Env(), info[1]);
    return Int(info, engine_.Send(U32(info, 0), static_cast<const uint8_t*>(view.iov_base),
                                  static_cast<uint32_t>(view.iov_len), ZeroCopy(info)));
  }

  // sendVector(slot, Uint8Array[]) -> 0 or -errno; at most kMaxIov arrays.
  Napi::Value SendVector(const Napi::CallbackInfo& info) {
    Alive(info);
    Napi::Array list = info[1].As<Napi::Array>();
    const uint32_t n = list.Length();
    if (n == 0 || n > kMaxIov) return Int(info, -EINVAL);
    iovec iov[kMaxIov];
    for (uint32_t i = 0; i < n; i++) iov[i] = View(info.Env(), list.Get(i));
    return Int(info, engine_.SendVector(U32(info, 0), iov, n, ZeroCopy(info)));
  }

  // A view's memory, at most kMaxSendBytes of it, in one call into Node: a send is made per
  // message, and each of node-addon-api's accessors (ArrayBuffer(), ByteOffset(), ByteLength())
  // asks Node again. The caller passes Uint8Arrays only (WRITE-1), so elements are bytes, and
  // has checked that each view is whole (WRITE-12).
  static iovec View(napi_env env, napi_value value) {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr),
                         (iovec{}));
    return iovec{data, std::min<size_t>(length, kMaxSendBytes)};
  }

  // The optional zero-copy flag: a boolean, read without coercion; anything else means no.
  static bool ZeroCopy(const Napi::CallbackInfo& info) {
    bool zero_copy = false;
    return info.Length() > 2 && napi_get_value_bool(info.Env(), info[2], &zero_copy) == napi_ok && zero_copy;
  }

  Napi::Value PollWritable(const Napi::CallbackInfo& info) {
    return Int(info, Alive(info) ? engine_.PollWritable(U32(info, 0)) : 0);
  }

  Napi::Value Shutdown(const Napi::CallbackInfo& info) { return Int(info, Alive(info) ? engine_.Shutdown(U32(info, 0)) : 0); }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Alive(info);
    return Int(info, engine_.Close(U32(info, 0), info[1].ToBoolean()));
  }
  Napi::Value FreeSlot(const Napi::CallbackInfo& info) {
    if (!torn_down_) engine_.FreeSlot(U32(info, 0));
    return info.Env().Undefined();
  }
  Napi::Value SetNoDelay(const Napi::CallbackInfo& info) {
    Alive(info);
    Socket* s = engine_.sockets().Get(U32(info, 0));
    return Int(info, s == nullptr || s->fd < 0 ? -EBADF : iolease::SetNoDelay(s->fd, info[1].ToBoolean()));
  }
  Napi::Value SetKeepAlive(const Napi::CallbackInfo& info) {
    Alive(info);
    Socket* s = engine_.sockets().Get(U32(info, 0));
    return Int(info, s == nullptr || s->fd < 0 ? -EBADF : iolease::SetKeepAlive(s->fd, info[1].ToBoolean(), I32(info, 2)));
  }

  // address(slot, peer) -> [family, ip, port] or -errno: a channel's captured at accept or
  // connect, a listener's from the kernel
  Napi::Value Address(const Napi::CallbackInfo& info) {
    Alive(info);
    Socket* s = engine_.sockets().Get(U32(info, 0));
    const bool peer = info[1].ToBoolean();
    iolease::Address a;
    int ret;
    if (s == nullptr) ret = -EBADF;
    else if (s->has_addresses) ret = FormatAddress(peer ? s->peer_address : s->local_address, &a);
    else ret = s->fd < 0 ? -EBADF : GetAddress(s->fd, peer, &a);
    if (ret < 0) return Int(info, ret);
    Napi::Array out = Napi::Array::New(info.Env(), 3);
    out.Set(0u, a.family);
    out.Set(1u, a.ip);
    out.Set(2u, a.port);
    return out;
  }

  Napi::Value Pump(const Napi::CallbackInfo& info) {
    if (!torn_down_) RunPump(info.Env(), false);
    return info.Env().Undefined();
  }
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (handles_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(handles_->poll()));
    return info.Env().Undefined();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (handles_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(handles_->poll()));
    return info.Env().Undefined();
  }

  Napi::Value Features(const Napi::CallbackInfo& info) {
    Alive(info);
    Napi::Env env = info.Env();
    const Ring& ring = engine_.ring();
    Napi::Object f = Napi::Object::New(env);
    f.Set("setupFlags", ring.setup_flags());
    f.Set("features", ring.features());
    f.Set("sqEntries", ring.sq_entries());
    f.Set("cqEntries", ring.cq_entries());
    f.Set("deferTaskrun", ring.defer_taskrun());
    f.Set("registeredRing", ring.ring_registered());
    f.Set("sendZeroCopy", ring.SupportsOp(IORING_OP_SEND_ZC));
    f.Set("recvSendBundle", (ring.features() & kFeatRecvSendBundle) != 0);
    f.Set("incrementalBuffers", engine_.incremental());
    f.Set("faultInjection", engine_.faults().enabled());
    return f;
  }

  // faultsFired() -> { again: n, ... }: how often each injected fault fired (test build).
  Napi::Value FaultsFired(const Napi::CallbackInfo& info) {
    Napi::Object out = Napi::Object::New(info.Env());
    for (uint32_t f = 0; f < static_cast<uint32_t>(Fault::kCount); f++) {
      out.Set(kFaultNames[f], static_cast<double>(engine_.faults().fired(static_cast<Fault>(f))));
    }
    return out;
  }

  // bufferMemory(classIndex, bid[, offset, length]) -> an ArrayBuffer of exactly that buffer's
  // memory, or of that piece of it. The pool asks once per buffer and keeps it, so a lease's
  // `bytes.buffer` never reaches another buffer (LEASE-11) and no read creates an object for its
  // memory. An incremental buffer is shared by several reads while the kernel still fills the
  // rest, so there each read gets an ArrayBuffer of its own bytes alone.
  Napi::Value BufferMemory(const Napi::CallbackInfo& info) {
    Alive(info);
    const uint32_t index = U32(info, 0);
    const uint32_t bid = U32(info, 1);
    if (index >= memory_.size() || bid >= memory_[index].count) {
      throw Napi::RangeError::New(info.Env(), "no such pool buffer");
    }
    const ClassMemory& m = memory_[index];
    const uint32_t offset = info.Length() > 3 ? U32(info, 2) : 0;
    const uint32_t length = info.Length() > 3 ? U32(info, 3) : m.size;
    if (offset > m.size || length > m.size - offset) throw Napi::RangeError::New(info.Env(), "no such piece of a pool buffer");
    m.area->Ref();
    return Napi::ArrayBuffer::New(
        info.Env(), m.area->data() + static_cast<size_t>(bid) * m.size + offset, length,
        [](Napi::Env, void*, PoolMemory* area) { area->Unref(); }, m.area);
  }

  Napi::Value FlushReturns(const Napi::CallbackInfo& info) {
    if (!torn_down_) engine_.ApplyReturns();
    return info.Env().Undefined();
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    Teardown();
    ReleaseMemory();
    for (auto& ref : shared_refs_) ref.Reset();
    shared_refs_.clear();
    return info.Env().Undefined();
  }

  // The loop's own hold on each class's memory, dropped once the ring can no longer write to it.
  void ReleaseMemory() {
    for (ClassMemory& m : memory_) m.area->Unref();
    memory_.clear();
  }

  struct ClassMemory {
    PoolMemory* area;
    uint32_t size;
    uint32_t count;
  };

  Engine engine_;
  std::vector<ClassMemory> memory_;
  Napi::FunctionReference on_batch_;
  Napi::FunctionReference on_flush_;
  int32_t* sends_queued_ = nullptr;  // set by JavaScript when it queued sends for the next enter
  // 1 while a pump runs, microtasks after each batch included: JavaScript then asks for no pump
  // of its own, since the running one collects whatever it queues (see Engine::Pump).
  int32_t* pumping_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::vector<Napi::ObjectReference> shared_refs_;
  LoopHandles* handles_ = nullptr;  // owned until Teardown hands it to libuv to close
  HotTarget* hot_target_ = nullptr;  // see DefineHotCall
  uint32_t retries_ = 0;            // consecutive pumps that left work behind
  bool torn_down_ = false;
};

}  // namespace

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeLoop", NativeLoop::Define(env));
  Napi::Object kinds = Napi::Object::New(env);
  kinds.Set("ACCEPT", static_cast<uint32_t>(OpKind::kAccept));
  kinds.Set("RECV", static_cast<uint32_t>(OpKind::kRecv));
  kinds.Set("SEND", static_cast<uint32_t>(OpKind::kSend));
  kinds.Set("CONNECT", static_cast<uint32_t>(OpKind::kConnect));
  kinds.Set("CLOSE_CANCEL", static_cast<uint32_t>(OpKind::kCloseCancel));
  kinds.Set("CLOSE", static_cast<uint32_t>(OpKind::kClose));
  kinds.Set("RECV_CANCEL", static_cast<uint32_t>(OpKind::kRecvCancel));
  kinds.Set("INTERNAL", static_cast<uint32_t>(OpKind::kInternal));
  kinds.Set("WRITABLE", static_cast<uint32_t>(OpKind::kWritable));
  kinds.Set("ROOM_POLL", static_cast<uint32_t>(OpKind::kRoomPoll));
  kinds.Set("BUFFER_DONE", static_cast<uint32_t>(OpKind::kBufferDone));
  exports.Set("kinds", kinds);
  exports.Set("maxIov", kMaxIov);
  return exports;
}

}  // namespace iolease

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return iolease::InitModule(env, exports); }

NODE_API_MODULE(iolease_uring, Init)
