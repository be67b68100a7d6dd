# node-gyp's input for the addon. It lives in native/, not at the package root: npm adds an
# implicit `node-gyp rebuild` install script to any package with a binding.gyp at its root, and
# `npm ci` does so even with "gypfile": false (a lockfile does not record it), which would compile
# on every user's install. Build with `node-gyp rebuild --directory native` (npm run build:addon,
# rseq-slice build); the result is native/build/Release/rseq_slice.node.
{
  "variables": {
    # -Werror only in the project's own builds (its npm scripts set RSEQ_SLICE_WERROR=1): a
    # user's source build with a newer compiler must not fail on a warning we have not seen.
    "rseq_slice_werror%": "<!(node -p \"process.env.RSEQ_SLICE_WERROR === '1' ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "rseq_slice",
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fno-exceptions"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: an error raised while the thread's environment
      # is shutting down (a worker terminated, or the process exiting, while it loads the addon)
      # is dropped instead of a fatal error (SIGABRT of the whole process) on the failed napi_throw.
      "defines": ["NAPI_VERSION=9", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "conditions": [
        ["rseq_slice_werror==1", {"cflags_cc": ["-Werror"]}],
        ["OS=='linux'", {
          "sources": ["addon.cc", "rseq_area.cc", "slice_syscalls.cc", "exec.cc", "bench_loop.cc", "constants.cc", "diagnostics.cc", "thread_watch.cc", "native_api.cc"],
          "libraries": ["-ldl"],
          # Never unloaded (DF_1_NODELETE): Node dlcloses an addon with the last environment that
          # loaded it, and native/thread_watch.cc's record of ended threads must outlive them all,
          # or a worker that loads the package after the last user ended finds its dead holders alive.
          "ldflags": ["-Wl,-z,nodelete"]
        }, {
          "sources": ["unsupported_os.cc"]
        }]
      ]
    }
  ]
}
