# The benchmark's consumer of rseq-slice's native API (scripts/bench.ts: the section pair through
# include/rseq_slice.h against the addon's own loop), built as another package's addon would be:
# the include line the docs give, node-addon-api, nothing of rseq-slice linked (the function table
# arrives at init, from JavaScript). scripts/consumer_build.ts builds it with the project's node-gyp.
#
# `require('rseq-slice')` resolves here with no install: gyp runs the command in this directory,
# inside the rseq-slice package, and Node resolves a package's own name from within it (package
# self-reference through "exports"). It needs dist/ built (npm run build).
{
  "targets": [
    {
      "target_name": "header_consumer",
      "sources": ["section_loop.cc"],
      "include_dirs": [
        "<!(node -p \"require('rseq-slice').include\")",
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
