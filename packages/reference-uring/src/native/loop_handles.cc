#include "loop_handles.h"

namespace iolease {

LoopHandles* LoopHandles::Open(napi_env env, int fd, void* owner, uv_poll_cb on_poll, void (*on_env_cleanup)(void*)) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* self = new LoopHandles();
  self->owner_ = owner;
  self->on_env_cleanup_ = on_env_cleanup;
  uv_poll_init(loop, &self->poll_, fd);
  uv_timer_init(loop, &self->retry_);
  self->poll_.data = owner;
  self->retry_.data = owner;
  uv_poll_start(&self->poll_, UV_READABLE, on_poll);
  // JavaScript refs the poll handle while the loop has sockets (LOOP-6); the timer never keeps
  // the process alive on its own.
  uv_unref(reinterpret_cast<uv_handle_t*>(&self->poll_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&self->retry_));
  napi_add_async_cleanup_hook(env, &LoopHandles::OnAsyncCleanup, self, &self->hook_);
  return self;
}

void LoopHandles::Close() {
  if (closing_) return;
  closing_ = true;
  uv_poll_stop(&poll_);
  uv_timer_stop(&retry_);
  // Stopped, neither calls its owner again; from here their data is this object.
  poll_.data = this;
  retry_.data = this;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &LoopHandles::OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&retry_), &LoopHandles::OnClosed);
}

void LoopHandles::OnAsyncCleanup(napi_async_cleanup_hook_handle /*handle*/, void* arg) {
  auto* self = static_cast<LoopHandles*>(arg);
  // Closing already: the last close callback releases the hook. Otherwise the owner tears the
  // loop down, which closes the handles.
  if (!self->closing_) self->on_env_cleanup_(self->owner_);
}

void LoopHandles::OnClosed(uv_handle_t* handle) {
  auto* self = static_cast<LoopHandles*>(handle->data);
  if (--self->open_ > 0) return;
  napi_remove_async_cleanup_hook(self->hook_);
  delete self;
}

}  // namespace iolease
