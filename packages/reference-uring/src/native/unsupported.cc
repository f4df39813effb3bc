// Built on every operating system but Linux: io_uring exists only there. The module loads and
// says so, and the TypeScript loader turns that into ERR_IOLEASE_UNSUPPORTED_PLATFORM.
#include <node_api.h>

static napi_value Init(napi_env env, napi_value exports) {
  napi_value value;
  napi_get_boolean(env, true, &value);
  napi_set_named_property(env, exports, "unsupportedPlatform", value);
  return exports;
}

NAPI_MODULE(iolease_uring, Init)
