// N-API surface of the addon: a thin layer over rseq_area, slice_syscalls and the public header's
// section entry and exit (include/rseq_slice.h, the code consumer addons run). It returns numbers
// (results or -errno) and plain objects; lib/ turns them into policy and errors.
#include <napi.h>

#include <cerrno>
#include <cstdint>

#include "bench_loop.h"
#include "constants.h"
#include "diagnostics.h"
#include "exec.h"
#include "function_table.h"
#include "napi_args.h"
#include "native_api.h"
#include "rseq_abi.h"
#include "rseq_area.h"
#include "slice_syscalls.h"
#include "thread_watch.h"

namespace rseq_slice {
namespace {

// Per-environment (per JavaScript thread) data: the one external view of this thread's area.
// V8 refuses two external buffers over the same memory, so the view is created once and kept.
struct ThreadData {
  Napi::Reference<Napi::ArrayBuffer> view;
  napi_status viewStatus = napi_ok;
  bool viewTried = false;
};

Napi::Value AreaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool defaultOn = false;
  if (!Args(info, "areaInfo").Boolean(0, "defaultOn", &defaultOn)) return env.Undefined();
  const AreaState& s = ThreadArea(defaultOn);
  const Environment& e = GetEnvironment();
  Napi::Object o = Napi::Object::New(env);
  o.Set("owner", static_cast<int>(s.owner));
  o.Set("length", s.length);
  o.Set("featureSize", s.featureSize);
  o.Set("error", s.error);
  o.Set("defaultOn", s.defaultOn);
  o.Set("libcSymbols", e.libcSymbols);
  o.Set("libcRseqSize", e.libcRseqSize);
  o.Set("auxFeatureSize", static_cast<double>(e.auxFeatureSize));
  o.Set("auxAlign", static_cast<double>(e.auxAlign));
  // Lowest set bit of the address: the alignment the area actually has.
  uintptr_t address = reinterpret_cast<uintptr_t>(s.area);
  o.Set("alignment", static_cast<double>(address & (~address + 1)));
  return o;
}

// An external ArrayBuffer over `size` bytes at `data`. A runtime that refuses them (a V8 sandbox)
// may raise an exception with the refusal: it is cleared, and the status tells the caller to fall
// back.
napi_status ExternalArrayBuffer(napi_env env, void* data, size_t size, napi_value* out) {
  napi_status status = napi_create_external_arraybuffer(env, data, size, nullptr, nullptr, out);
  if (status != napi_ok) {
    napi_value ignored;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) napi_get_and_clear_last_exception(env, &ignored);
  }
  return status;
}

// Returns the 32-byte external view of the thread's area, or a number: -errno when the thread has
// no area, 1 when the runtime refuses external buffers (V8 sandbox).
Napi::Value AreaView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const AreaState& s = ThreadArea(false);
  if (s.area == nullptr) return Napi::Number::New(env, -(s.error ? s.error : ENXIO));
  ThreadData* data = env.GetInstanceData<ThreadData>();
  if (!data->viewTried) {
    data->viewTried = true;
    napi_value buffer;
    data->viewStatus = ExternalArrayBuffer(env, s.area, sizeof(Rseq), &buffer);
    if (data->viewStatus == napi_ok) data->view = Napi::Persistent(Napi::ArrayBuffer(env, buffer));
  }
  if (data->viewStatus != napi_ok) return Napi::Number::New(env, 1);
  return data->view.Value();
}

// The thread's section depth, shared with addons using include/rseq_slice.h, as a 4-byte external
// view for JavaScript's native handles; 1 when the runtime refuses external buffers (V8 sandbox:
// JavaScript then counts its own depth, and its sections and native ones nest separately).
Napi::Value ThreadNesting(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  napi_value buffer;
  if (ExternalArrayBuffer(env, ThreadDepth(), sizeof(int32_t), &buffer) != napi_ok) return Napi::Number::New(env, 1);
  return Napi::Value(env, buffer);
}

// The signed 32-bit field at a byte offset of the thread's area (one word of it: 0, 4, ... 28),
// or null when the thread has none. For runtimes that refuse the external view.
Napi::Value ReadField(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args args(info, "readField");
  uint64_t offset = 0;
  if (!args.Integer(0, "offset", 0, sizeof(Rseq) - sizeof(uint32_t), &offset)) return env.Undefined();
  if (offset % sizeof(uint32_t) != 0) {
    args.RangeError("offset must be a multiple of 4; got " + std::to_string(offset));
    return env.Undefined();
  }
  const AreaState& s = ThreadArea(false);
  if (s.area == nullptr) return env.Null();
  const volatile int32_t* words = reinterpret_cast<const volatile int32_t*>(s.area);
  return Napi::Number::New(env, words[offset / sizeof(uint32_t)]);
}

Napi::Value Prctl(const Napi::CallbackInfo& info) {
  Args args(info, "prctl");
  uint32_t op = 0, a3 = 0, a4 = 0, a5 = 0;
  if (!args.Uint32(0, "op", &op) || !args.Uint32(1, "arg3", &a3) || !args.Uint32(2, "arg4", &a4) ||
      !args.Uint32(3, "arg5", &a5))
    return info.Env().Undefined();
  long rc = SliceExtPrctl(op, a3, a4, a5);
  return Napi::Number::New(info.Env(), static_cast<double>(rc));
}

Napi::Value Yield(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(SliceYield()));
}

Napi::Value Enter(const Napi::CallbackInfo& info) {
  Rseq* area = CurrentAreaState().area;
  if (area == nullptr) return Napi::Number::New(info.Env(), -ENXIO);
  rseq_slice_enter(area);
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value Exit(const Napi::CallbackInfo& info) {
  Rseq* area = CurrentAreaState().area;
  if (area == nullptr) return Napi::Number::New(info.Env(), -ENXIO);
  return Napi::Number::New(info.Env(), static_cast<double>(rseq_slice_exit(area)));
}

// What detect() asks without leaving anything behind (lib/detect.ts):
// - withThreadArea(fn) runs fn (which reads the area through areaInfo/readField) inside an area
//   probe: if fn's calls were the first to resolve this thread's area, the resolution is undone
//   after it (the addon's own area unregistered and freed), unless a view of the area was created
//   meanwhile. Returns what EndAreaProbe says: 1 released, 0 nothing to release (or kept for a
//   view), -errno when the kernel refused the unregistration (the area then stays registered).
//   An exception fn throws still ends the probe and propagates.
// - externalBuffers() answers whether this runtime allows external ArrayBuffers (a V8 sandbox does
//   not) by wrapping 8 bytes of this thread's own, once per thread: never the area, whose one view
//   must stay free for the fast path (V8 refuses two external buffers over the same memory).
Napi::Value WithThreadArea(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Function fn;
  if (!Args(info, "withThreadArea").Function(0, "fn", &fn)) return env.Undefined();
  const ThreadData* data = env.GetInstanceData<ThreadData>();
  bool viewBefore = data->viewTried;
  BeginAreaProbe();
  fn.Call({});
  long released = EndAreaProbe(data->viewTried != viewBefore);
  if (env.IsExceptionPending()) return env.Undefined();  // fn threw: the probe ended, rethrow
  return Napi::Number::New(env, static_cast<double>(released));
}

Napi::Value ExternalBuffers(const Napi::CallbackInfo& info) {
  thread_local uint8_t bytes[8];
  thread_local int allowed = -1;  // unknown until asked
  Napi::Env env = info.Env();
  if (allowed < 0) {
    napi_value buffer;
    allowed = ExternalArrayBuffer(env, bytes, sizeof(bytes), &buffer) == napi_ok;
  }
  return Napi::Boolean::New(env, allowed == 1);
}

Napi::Object ProbeExports(Napi::Env env) {
  return FunctionTable(env, {{"withThreadArea", WithThreadArea}, {"externalBuffers", ExternalBuffers}});
}

}  // namespace
}  // namespace rseq_slice

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  using namespace rseq_slice;
  env.SetInstanceData(new ThreadData());
  SetFunctions(env, exports,
               {{"areaInfo", AreaInfo},
                {"areaView", AreaView},
                {"readField", ReadField},
                {"threadNesting", ThreadNesting},
                {"prctl", Prctl},
                {"sliceYield", Yield},
                {"enter", Enter},
                {"exit", Exit},
                {"execvp", ExecVp},
                {"watchThread", WatchThread},
                {"threadEnded", ThreadEnded}});
  exports.Set("bench", BenchExports(env));
  exports.Set("diagnostics", Diagnostics(env));
  exports.Set("constants", AbiConstants(env));
  exports.Set("probes", ProbeExports(env));
  exports.Set("btrl", Napi::Boolean::New(env, RSEQ_SLICE_HAVE_BTRL != 0));
  // The C function table for other addons (include/rseq_slice.h). Left out, never thrown, where
  // the runtime refuses it (lib/ then reports `native` as null).
  napi_value native;
  if (NativeApiExternal(env, &native) == napi_ok) exports.Set("native", Napi::Value(env, native));
  return exports;
}

NODE_API_MODULE(rseq_slice, InitAddon)
