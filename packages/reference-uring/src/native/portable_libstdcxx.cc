// Compiled into the prebuilt addons only (IOLEASE_PORTABLE=1). GCC 11+ headers make every
// std::allocator call this libstdc++ function, which exists only in libstdc++ 3.4.29 (GCC 11);
// left to the shared library, that one reference would stop the prebuild from loading on the
// distributions Node 22 and 24 still run on (RHEL 8, Debian 11, Ubuntu 20.04). Defined here,
// hidden, it binds inside the addon, and the addon asks nothing newer of libstdc++ than 3.4.
// The path it serves is unreachable in practice: an allocation size that overflows size_t.
#include <new>

namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length() {
  throw std::bad_array_new_length();
}
}  // namespace std
