// The benchmark's native entries, exported together as the addon's `bench` object (lib/addon/addon.ts
// types it): loops whose sections run in C++ with no V8 in the way, for `rseq-slice bench`
// (lib/lab/bench/worker.ts), `npm run bench` and the tests that need sections at C++ speed.
#ifndef RSEQ_SLICE_BENCH_LOOP_H
#define RSEQ_SLICE_BENCH_LOOP_H

#include <napi.h>

namespace rseq_slice {

// The object exported as the addon's `bench`: sectionLoop, spinLockLoop, schedGetcpu.
Napi::Object BenchExports(Napi::Env env);

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_BENCH_LOOP_H
