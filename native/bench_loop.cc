// The benchmark's native entries (bench_loop.h), exported as the addon's `bench` object.
//
// spinLockLoop(word, stop, request, minNs, maxNs, seed, baseNs, acquired, released, waits):
// until stop[0] != 0, take the spin lock word[0] (test and test-and-set), optionally set the
// slice request, spin a random minNs..maxNs section, release, then end the section (yield when
// granted). Records per section, as ns since baseNs (CLOCK_MONOTONIC): acquired, released, and
// the wait before acquiring, while the arrays have room. Returns [sections, recorded, clean,
// yielded, raced, revoked] or -errno. Argument policy lives in lib/lab/bench/worker.ts; this checks
// types and ranges at the boundary (native/napi_args.h).
#include "bench_loop.h"

#include <cerrno>
#include <cstdint>

#include "function_table.h"
#include "monotonic_clock.h"
#include "napi_args.h"
#include "rseq_abi.h"
#include "rseq_area.h"
#include "slice_syscalls.h"

namespace rseq_slice {
namespace {

// The outcomes a section's exit returns: RSEQ_SLICE_CLEAN to RSEQ_SLICE_REVOKED (include/rseq_slice.h).
constexpr int kOutcomeCount = RSEQ_SLICE_REVOKED + 1;

Napi::Value SpinLockLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args args(info, "spinLockLoop");
  size_t wordLen = 0, stopLen = 0, nAcq = 0, nRel = 0, nWait = 0;
  int32_t* word = nullptr;
  int32_t* stop = nullptr;
  double* acquired = nullptr;
  double* released = nullptr;
  double* waits = nullptr;
  bool request = false;
  uint64_t minNs = 0, maxNs = 0, seed = 0, base = 0;
  // Section lengths up to 10 s: enough for any benchmark, and t1 + length cannot overflow.
  constexpr uint64_t kMaxSectionNs = 10000000000;
  if (!args.TypedArray(0, "word", 1, &word, &wordLen) || !args.TypedArray(1, "stop", 1, &stop, &stopLen) ||
      !args.Boolean(2, "request", &request) || !args.Integer(3, "minNs", 0, kMaxSectionNs, &minNs) ||
      !args.Integer(4, "maxNs", 0, kMaxSectionNs, &maxNs) ||
      (maxNs < minNs && !args.RangeError("need minNs <= maxNs; got minNs " + std::to_string(minNs) + ", maxNs " +
                                         std::to_string(maxNs))) ||
      !args.Integer(5, "seed", 0, kMaxSafeInteger, &seed) || !args.BigUint64(6, "baseNs", &base) ||
      !args.TypedArray(7, "acquired", 0, &acquired, &nAcq) || !args.TypedArray(8, "released", 0, &released, &nRel) ||
      !args.TypedArray(9, "waits", 0, &waits, &nWait))
    return env.Undefined();
  // The generator's state: the seed's low 32 bits (seed >>> 0 in JavaScript), odd so never 0.
  uint32_t x = static_cast<uint32_t>(seed) | 1u;
  size_t room = nAcq < nRel ? nAcq : nRel;
  if (nWait < room) room = nWait;

  Rseq* area = CurrentAreaState().area;
  if (request && area == nullptr) return Napi::Number::New(env, -ENXIO);
  uint64_t span = maxNs - minNs + 1;
  double sections = 0, outcomes[kOutcomeCount] = {};
  size_t n = 0;
  while (__atomic_load_n(stop, __ATOMIC_ACQUIRE) == 0) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    uint64_t length = minNs + x % span;
    uint64_t t0 = MonotonicNs();
    for (;;) {
      int32_t expected = 0;
      if (__atomic_compare_exchange_n(word, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) break;
      while (__atomic_load_n(word, __ATOMIC_RELAXED) != 0) rseq_slice_cpu_relax();  // include/rseq_slice.h
    }
    uint64_t t1 = MonotonicNs();
    if (request) rseq_slice_enter(area);
    SpinUntilNs(t1 + length);
    uint64_t t2 = MonotonicNs();
    __atomic_store_n(word, 0, __ATOMIC_RELEASE);
    // The section ends after the release: a yield gives the CPU back with the lock free.
    if (request) {
      long outcome = rseq_slice_exit(area);
      if (outcome < 0) return Napi::Number::New(env, static_cast<double>(outcome));
      outcomes[outcome]++;
    }
    sections++;
    if (n < room) {
      acquired[n] = static_cast<double>(t1 - base);
      released[n] = static_cast<double>(t2 - base);
      waits[n] = static_cast<double>(t1 - t0);
      n++;
    }
  }
  Napi::Array result = Napi::Array::New(env, 2 + kOutcomeCount);
  result.Set(0u, sections);
  result.Set(1u, static_cast<double>(n));
  for (uint32_t i = 0; i < kOutcomeCount; i++) result.Set(i + 2, outcomes[i]);
  return result;
}

// sectionLoop(count, spinNs): `count` sections entirely in C++ on this thread's area, each
// spinning `spinNs` inside; returns the outcome counts [clean, yielded, raced, revoked], or -errno.
Napi::Value SectionLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args args(info, "sectionLoop");
  uint64_t n = 0, spin = 0;
  if (!args.Integer(0, "count", 0, kMaxSafeInteger, &n) || !args.Integer(1, "spinNs", 0, kMaxSafeInteger, &spin))
    return env.Undefined();
  Rseq* area = CurrentAreaState().area;
  if (area == nullptr) return Napi::Number::New(env, -ENXIO);
  double counts[kOutcomeCount] = {};
  for (uint64_t i = 0; i < n; i++) {
    rseq_slice_enter(area);
    if (spin) SpinUntilNs(MonotonicNs() + spin);
    long outcome = rseq_slice_exit(area);
    if (outcome < 0) return Napi::Number::New(env, static_cast<double>(outcome));
    counts[outcome]++;
  }
  Napi::Array result = Napi::Array::New(env, kOutcomeCount);
  for (uint32_t i = 0; i < kOutcomeCount; i++) result.Set(i, counts[i]);
  return result;
}

// schedGetcpu(): sched_getcpu() through N-API, the benchmark's baseline for cpu() read from the
// area (and a plain syscall for tests); the CPU number or -errno.
Napi::Value SchedGetcpuEntry(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(SchedGetcpu()));
}

}  // namespace

Napi::Object BenchExports(Napi::Env env) {
  return FunctionTable(
      env, {{"sectionLoop", SectionLoop}, {"spinLockLoop", SpinLockLoop}, {"schedGetcpu", SchedGetcpuEntry}});
}

}  // namespace rseq_slice
