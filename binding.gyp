{
  "targets": [
    {
      "target_name": "rseq_slice",
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-fno-exceptions"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["native/addon.cc", "native/rseq_area.cc", "native/slice_syscalls.cc", "native/bench_loop.cc"],
          "libraries": ["-ldl"]
        }, {
          "sources": ["native/unsupported_os.cc"]
        }]
      ]
    }
  ]
}
