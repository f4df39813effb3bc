// The libuv handles of one native loop (the eventfd poll and the retry timer), kept apart from
// it because of how they end. Closing a libuv handle finishes in a later turn of the loop, by
// calling back into this addon. A worker being terminated runs its environment's cleanup hooks
// and may then unload the addon before that turn: with a plain cleanup hook and uv_close, the
// worker called into unmapped code (a segfault on worker.terminate() with a loop open). An async
// cleanup hook makes Node wait until the last close callback has run, so the handles hold one
// from the moment they exist until they are closed.
#pragma once

#include <node_api.h>
#include <uv.h>

namespace iolease {

class LoopHandles {
 public:
  // Opens both handles on env's libuv loop, unreferenced, with `owner` as their data, and
  // registers the async cleanup hook: if the environment ends first, on_env_cleanup(owner) runs,
  // and it must call Close().
  static LoopHandles* Open(napi_env env, int fd, void* owner, uv_poll_cb on_poll, void (*on_env_cleanup)(void*));

  uv_poll_t* poll() { return &poll_; }
  uv_timer_t* retry() { return &retry_; }

  // Stops both handles and closes them; the object frees itself once both close callbacks ran,
  // and releases the cleanup hook then. Idempotent; `this` must not be used after it.
  void Close();

 private:
  LoopHandles() = default;
  static void OnAsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg);
  static void OnClosed(uv_handle_t* handle);

  uv_poll_t poll_{};
  uv_timer_t retry_{};
  napi_async_cleanup_hook_handle hook_ = nullptr;
  void* owner_ = nullptr;
  void (*on_env_cleanup_)(void*) = nullptr;
  int open_ = 2;
  bool closing_ = false;
};

}  // namespace iolease
