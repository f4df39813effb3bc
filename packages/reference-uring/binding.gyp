{
  "targets": [
    {
      "target_name": "iolease_uring",
      "conditions": [
        ["OS=='linux'", {
          "sources": [
            "src/native/binding.cc",
            "src/native/engine.cc",
            "src/native/loop_handles.cc",
            "src/native/ring.cc",
            "src/native/buffer_ring.cc",
            "src/native/pool_memory.cc",
            "src/native/socket_table.cc",
            "src/native/room_watch.cc",
            "src/native/faults.cc"
          ],
          "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
          "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
          "cflags!": ["-fno-exceptions"],
          "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
          "cflags": ["-Wall", "-Wextra", "-Wshadow", "-Wno-unused-parameter"],
          "cflags_cc": ["-std=c++20", "-fexceptions", "-Wall", "-Wextra", "-Wshadow", "-Wno-unused-parameter",
                        "-Wno-missing-field-initializers"],
          "conditions": [
            ["'<!(echo $IOLEASE_FAULTS_BUILD)'=='1'", {
              "defines": ["IOLEASE_FAULTS"]
            }],
            ["'<!(echo $IOLEASE_PORTABLE)'=='1'", {
              "sources": ["src/native/portable_libstdcxx.cc"],
              "ldflags": ["-Wl,--strip-debug"]
            }],
            ["'<!(echo $IOLEASE_SANITIZE)'=='1'", {
              "cflags": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-O1"],
              "cflags_cc": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-O1"],
              "ldflags": ["-fsanitize=address,undefined"]
            }]
          ]
        }, {
          "sources": ["src/native/unsupported.cc"]
        }]
      ]
    }
  ]
}
