// spinLockLoop(word, stop, request, minNs, maxNs, seed, baseNs, acquired, released, waits):
// until stop[0] != 0, take the spin lock word[0] (test and test-and-set), optionally set the
// slice request, spin a random minNs..maxNs section, release, then end the section (yield when
// granted). Records per section, as ns since baseNs (CLOCK_MONOTONIC): acquired, released, and
// the wait before acquiring, while the arrays have room. Returns [sections, recorded, clean,
// yielded, raced, revoked] or -errno. Argument policy lives in lib/bench/worker.ts; this checks
// only what would make the memory accesses unsafe.
#include "bench_loop.h"

#include <cerrno>
#include <cstdint>
#include <ctime>

#include "fast_path.h"
#include "rseq_area.h"

namespace rseq_slice {
namespace {

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no syscall, so no grant is ended
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// The data pointer and length of a typed array of the given type (SharedArrayBuffer-backed
// arrays too); false after throwing a TypeError. An empty array may have a null pointer.
template <typename T>
bool TypedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what,
              T** data, size_t* length) {
  napi_typedarray_type actual;
  void* raw = nullptr;
  if (info.Length() > i && info[i].IsTypedArray() &&
      napi_get_typedarray_info(info.Env(), info[i], &actual, length, &raw, nullptr, nullptr) ==
          napi_ok &&
      actual == type) {
    *data = static_cast<T*>(raw);
    return true;
  }
  Napi::TypeError::New(info.Env(), std::string("spinLockLoop: argument ") + std::to_string(i) +
                                       " must be " + what)
      .ThrowAsJavaScriptException();
  return false;
}

}  // namespace

Napi::Value SpinLockLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t wordLen = 0, stopLen = 0, nAcq = 0, nRel = 0, nWait = 0;
  int32_t* word = nullptr;
  int32_t* stop = nullptr;
  if (!TypedArg(info, 0, napi_int32_array, "an Int32Array", &word, &wordLen) ||
      !TypedArg(info, 1, napi_int32_array, "an Int32Array", &stop, &stopLen))
    return env.Undefined();
  if (wordLen < 1 || stopLen < 1) {
    Napi::RangeError::New(env, "spinLockLoop: the lock and stop arrays need at least one element")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!info[2].IsBoolean() || !info[3].IsNumber() || !info[4].IsNumber() || !info[5].IsNumber() ||
      !info[6].IsBigInt()) {
    Napi::TypeError::New(env, "spinLockLoop: request must be a boolean, minNs, maxNs and seed numbers, baseNs a bigint")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool request = info[2].As<Napi::Boolean>().Value();
  double minD = info[3].As<Napi::Number>().DoubleValue();
  double maxD = info[4].As<Napi::Number>().DoubleValue();
  if (!(minD >= 0 && maxD >= minD && maxD <= 1e10)) {
    Napi::RangeError::New(env, "spinLockLoop: need 0 <= minNs <= maxNs <= 1e10")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t x = static_cast<uint32_t>(info[5].As<Napi::Number>().Int64Value()) | 1u;
  bool lossless = false;
  uint64_t base = info[6].As<Napi::BigInt>().Uint64Value(&lossless);
  double* acquired = nullptr;
  double* released = nullptr;
  double* waits = nullptr;
  if (!TypedArg(info, 7, napi_float64_array, "a Float64Array", &acquired, &nAcq) ||
      !TypedArg(info, 8, napi_float64_array, "a Float64Array", &released, &nRel) ||
      !TypedArg(info, 9, napi_float64_array, "a Float64Array", &waits, &nWait))
    return env.Undefined();
  size_t room = nAcq < nRel ? nAcq : nRel;
  if (nWait < room) room = nWait;

  Rseq* area = CurrentAreaState().area;
  if (request && area == nullptr) return Napi::Number::New(env, -ENXIO);
  uint64_t minNs = static_cast<uint64_t>(minD), span = static_cast<uint64_t>(maxD - minD) + 1;
  double sections = 0, outcomes[4] = {0, 0, 0, 0};
  size_t n = 0;
  while (__atomic_load_n(stop, __ATOMIC_ACQUIRE) == 0) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    uint64_t length = minNs + x % span;
    uint64_t t0 = MonotonicNs();
    for (;;) {
      int32_t expected = 0;
      if (__atomic_compare_exchange_n(word, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        break;
      while (__atomic_load_n(word, __ATOMIC_RELAXED) != 0) CpuRelax();
    }
    uint64_t t1 = MonotonicNs();
    if (request) SliceEnter(area);
    uint64_t end = t1 + length;
    while (MonotonicNs() < end) {
    }
    uint64_t t2 = MonotonicNs();
    __atomic_store_n(word, 0, __ATOMIC_RELEASE);
    // The section ends after the release: a yield gives the CPU back with the lock free.
    if (request) {
      long outcome = SliceExit(area);
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
  Napi::Array result = Napi::Array::New(env, 6);
  result.Set(0u, sections);
  result.Set(1u, static_cast<double>(n));
  for (uint32_t i = 0; i < 4; i++) result.Set(i + 2, outcomes[i]);
  return result;
}

}  // namespace rseq_slice
