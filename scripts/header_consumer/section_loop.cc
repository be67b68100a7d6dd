// The section pair through include/rseq_slice.h, as a consumer addon runs it: init(table) takes
// rseq-slice's function table; sectionLoop(count, spinNs) runs `count` sections on this thread, each
// spinning `spinNs` inside, and returns the outcome counts [clean, yielded, raced, revoked] or
// -errno. The same loop as the sectionLoop of rseq-slice's addon (native/bench_loop.cc), which
// scripts/bench.ts compares it with: on the area of thread_section_area(), or of thread_area()
// where the extension is not enabled, as that loop uses the thread's area either way (a kernel
// that cannot grant then ignores `request`, and both loops still do the byte store, the
// test-and-clear and the `granted` check).
#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <string>

#include "rseq_slice.h"

namespace {

const rseq_slice_api* api = nullptr;  // set by init; the same for every thread

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no syscall, so no grant is aborted
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// init(native): the table from require('rseq-slice').native; anything else throws the header's message.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* error = rseq_slice_api_from_napi(env, info[0], &api);
  if (error != nullptr) Napi::Error::New(env, error).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Argument `i` as an integer from 0 to 2^53 - 1 in *out; else a TypeError (not a number) or a
// RangeError is thrown and false returned.
bool Count(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out) {
  Napi::Env env = info.Env();
  std::string message = std::string("header_consumer: sectionLoop: ") + name + " must be an integer from 0 to 2^53 - 1";
  if (!info[i].IsNumber()) {
    Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
    return false;
  }
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 9007199254740991.0) || v != static_cast<double>(static_cast<uint64_t>(v))) {
    Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<uint64_t>(v);
  return true;
}

Napi::Value SectionLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (api == nullptr) {
    Napi::Error::New(env, "header_consumer: call init(require('rseq-slice').native) first")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint64_t n = 0, spin = 0;
  if (!Count(info, 0, "count", &n) || !Count(info, 1, "spinNs", &spin)) return env.Undefined();
  // Inside a section of this thread (a JavaScript one, on the native backend) every end would be
  // an inner one (RSEQ_SLICE_NESTED), which is no outcome of a section: refuse instead.
  if (api->thread()->depth != 0) {
    Napi::Error::New(env, "header_consumer: sectionLoop: call it outside any section of this thread")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  rseq_slice_area* area = api->thread_section_area();
  if (area == nullptr) area = api->thread_area();
  if (area == nullptr) return Napi::Number::New(env, -ENXIO);
  // The pair a consumer runs (rseq_slice_begin/rseq_slice_end: the depth, then the request), over
  // the real area even where the extension is off (as the addon's own loop measures), so the two
  // loops do the same work; on the thread's own state when it is enabled.
  rseq_slice_thread local = {area, 0, 0};
  rseq_slice_thread* thread = api->thread()->area == area ? api->thread() : &local;
  double counts[4] = {};
  for (uint64_t i = 0; i < n; i++) {
    rseq_slice_begin(thread);
    if (spin) {
      uint64_t end = NowNs() + spin;
      while (NowNs() < end) {
      }
    }
    long outcome = rseq_slice_end(thread);
    if (outcome < 0) return Napi::Number::New(env, static_cast<double>(outcome));
    counts[outcome]++;  // an outermost end: RSEQ_SLICE_CLEAN to RSEQ_SLICE_REVOKED
  }
  Napi::Array result = Napi::Array::New(env, 4);
  for (uint32_t i = 0; i < 4; i++) result.Set(i, counts[i]);
  return result;
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("sectionLoop", Napi::Function::New(env, SectionLoop, "sectionLoop"));
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Register)
