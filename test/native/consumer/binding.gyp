# A consumer of rseq-slice's native API, as another package's addon would be written: its include
# line is the one the docs give, and it links nothing of rseq-slice (the function table arrives
# at init, from JavaScript). test/lib/consumer.test.ts builds it with the project's node-gyp.
#
# `require('rseq-slice')` resolves here with no install and no NODE_PATH: gyp runs the command in
# this directory, inside the rseq-slice package, and Node resolves a package's own name from within
# it (package self-reference through "exports"). It needs dist/ built (npm run build).
{
  "targets": [
    {
      "target_name": "consumer",
      "sources": ["consumer.cc", "c_part.c"],
      "include_dirs": ["<!(node -p \"require('rseq-slice').include\")"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror"],
      "cflags_c": ["-std=c11", "-Wpedantic"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17"]
    }
  ]
}
