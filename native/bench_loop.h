// The benchmark's native control section: a contended spin lock whose critical sections run in
// C++ (no V8 in the way), see lib/bench/worker.ts.
#ifndef RSEQ_SLICE_BENCH_LOOP_H
#define RSEQ_SLICE_BENCH_LOOP_H

#include <napi.h>

namespace rseq_slice {

Napi::Value SpinLockLoop(const Napi::CallbackInfo& info);

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_BENCH_LOOP_H
