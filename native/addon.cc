// N-API surface of the addon: a thin layer over rseq_area, slice_syscalls and fast_path. It
// returns numbers (results or -errno) and plain objects; lib/ turns them into policy and errors.
#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>

#include <sys/wait.h>
#include <unistd.h>

#include "bench_loop.h"
#include "exec.h"
#include "fast_path.h"
#include "rseq_area.h"
#include "slice_syscalls.h"

namespace rseq_slice {
namespace {

// Per-environment (per JavaScript thread) data: the one external view of this thread's area.
// V8 refuses two external buffers over the same memory, so the view is created once and kept.
struct ThreadData {
  Napi::Reference<Napi::ArrayBuffer> view;
  napi_status viewStatus = napi_ok;
  bool viewTried = false;
};

bool ArgNumber(const Napi::CallbackInfo& info, size_t i, double* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), "rseq-slice addon: argument " + std::to_string(i) + " must be a number")
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = info[i].As<Napi::Number>().DoubleValue();
  return true;
}

Napi::Value AreaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool defaultOn = info.Length() > 0 && info[0].ToBoolean().Value();
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
    data->viewStatus =
        napi_create_external_arraybuffer(env, s.area, sizeof(Rseq), nullptr, nullptr, &buffer);
    if (data->viewStatus == napi_ok) {
      data->view = Napi::Persistent(Napi::ArrayBuffer(env, buffer));
    } else {
      // Clear the pending exception some runtimes raise with the refusal: the caller falls back.
      napi_value ignored;
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) napi_get_and_clear_last_exception(env, &ignored);
    }
  }
  if (data->viewStatus != napi_ok) return Napi::Number::New(env, 1);
  return data->view.Value();
}

Napi::Value ReadArea(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const AreaState& s = ThreadArea(false);
  if (s.area == nullptr) return env.Null();
  const volatile Rseq* a = s.area;
  Napi::Object o = Napi::Object::New(env);
  o.Set("cpuIdStart", static_cast<double>(a->cpu_id_start));
  o.Set("cpuId", static_cast<double>(static_cast<int32_t>(a->cpu_id)));
  o.Set("flags", static_cast<double>(a->flags));
  o.Set("nodeId", static_cast<double>(a->node_id));
  o.Set("mmCid", static_cast<double>(a->mm_cid));
  o.Set("request", static_cast<double>(a->slice_ctrl.bytes.request));
  o.Set("granted", static_cast<double>(a->slice_ctrl.bytes.granted));
  return o;
}

Napi::Value Prctl(const Napi::CallbackInfo& info) {
  double op, a3, a4, a5;
  if (!ArgNumber(info, 0, &op) || !ArgNumber(info, 1, &a3) || !ArgNumber(info, 2, &a4) ||
      !ArgNumber(info, 3, &a5))
    return info.Env().Undefined();
  long rc = SliceExtPrctl(static_cast<unsigned long>(op), static_cast<unsigned long>(a3),
                          static_cast<unsigned long>(a4), static_cast<unsigned long>(a5));
  return Napi::Number::New(info.Env(), static_cast<double>(rc));
}

Napi::Value Yield(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(SliceYield()));
}

Napi::Value SchedCpu(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(SchedGetcpu()));
}

Napi::Value Enter(const Napi::CallbackInfo& info) {
  Rseq* area = CurrentAreaState().area;
  if (area == nullptr) return Napi::Number::New(info.Env(), -ENXIO);
  SliceEnter(area);
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value Exit(const Napi::CallbackInfo& info) {
  Rseq* area = CurrentAreaState().area;
  if (area == nullptr) return Napi::Number::New(info.Env(), -ENXIO);
  return Napi::Number::New(info.Env(), static_cast<double>(SliceExit(area)));
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no syscall, so no grant is aborted
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Runs `count` sections entirely in C++, each spinning `spinNs` inside, and returns the outcome
// counts [clean, yielded, raced, revoked], or -errno.
Napi::Value SectionLoop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double count, spinNs;
  if (!ArgNumber(info, 0, &count) || !ArgNumber(info, 1, &spinNs)) return env.Undefined();
  Rseq* area = CurrentAreaState().area;
  if (area == nullptr) return Napi::Number::New(env, -ENXIO);
  double counts[4] = {0, 0, 0, 0};
  uint64_t n = static_cast<uint64_t>(count);
  uint64_t spin = static_cast<uint64_t>(spinNs);
  for (uint64_t i = 0; i < n; i++) {
    SliceEnter(area);
    if (spin) {
      uint64_t end = NowNs() + spin;
      while (NowNs() < end) {
      }
    }
    long outcome = SliceExit(area);
    if (outcome < 0) return Napi::Number::New(env, static_cast<double>(outcome));
    counts[outcome]++;
  }
  Napi::Array result = Napi::Array::New(env, 4);
  for (uint32_t i = 0; i < 4; i++) result.Set(i, counts[i]);
  return result;
}

// Diagnostics for the ABI differential test (scripts/abi-transcript.ts): register a separate
// 64-byte, 64-aligned area with any length and flags, so every registration case can be asked of
// the real kernel. Only for a thread that never used ThreadArea (glibc's registration off).
struct alignas(64) RawArea {
  uint8_t bytes[64];
};
thread_local RawArea rawArea;
thread_local uint32_t rawLength = 0;

Napi::Value RawRegister(const Napi::CallbackInfo& info) {
  double length, flags;
  if (!ArgNumber(info, 0, &length) || !ArgNumber(info, 1, &flags)) return info.Env().Undefined();
  if (length < 0 || length > sizeof(RawArea)) {
    Napi::RangeError::New(info.Env(), "rawRegister: length must be 0..64").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::memset(rawArea.bytes, 0, sizeof(rawArea.bytes));
  reinterpret_cast<Rseq*>(rawArea.bytes)->cpu_id = static_cast<uint32_t>(kCpuIdUninitialized);
  long rc = RseqRegister(rawArea.bytes, static_cast<uint32_t>(length), static_cast<int>(flags));
  if (rc == 0) rawLength = static_cast<uint32_t>(length);
  return Napi::Number::New(info.Env(), static_cast<double>(rc));
}

Napi::Value RawUnregister(const Napi::CallbackInfo& info) {
  long rc = RseqUnregister(rawArea.bytes, rawLength);
  return Napi::Number::New(info.Env(), static_cast<double>(rc));
}

// The raw area's flags word and slice_ctrl bytes.
Napi::Value RawRead(const Napi::CallbackInfo& info) {
  const volatile Rseq* a = reinterpret_cast<const Rseq*>(rawArea.bytes);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("cpuId", static_cast<double>(static_cast<int32_t>(a->cpu_id)));
  o.Set("flags", static_cast<double>(a->flags));
  o.Set("sliceCtrl", static_cast<double>(a->slice_ctrl.all));
  return o;
}

// Diagnostics: fork() without exec (which Node cannot do) and report, from the child, prctl GET
// and the area's flags word as the exit status (GET in bit 0, ENABLED flag bit in bit 1), so a
// test can check that a fork child keeps its parent thread's extension state.
Napi::Value ForkProbe(const Napi::CallbackInfo& info) {
  const AreaState& s = CurrentAreaState();
  pid_t pid = fork();
  if (pid < 0) return Napi::Number::New(info.Env(), -errno);
  if (pid == 0) {
    // Only async-signal-safe calls in the child of a multi-threaded process.
    long get = SliceExtPrctl(kPrRseqSliceExtensionGet, 0, 0, 0);
    int enabledBit = s.area && (s.area->flags & kRseqFlagSliceExtEnabled) ? 2 : 0;
    _exit(get < 0 ? 100 : static_cast<int>(get) | enabledBit);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return Napi::Number::New(info.Env(), WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

// What detect() asks without leaving anything behind (lib/detect.ts):
// - withThreadArea(fn) runs fn (which reads the area through areaInfo/readArea) inside an area
//   probe: if fn's calls were the first to resolve this thread's area, the resolution is undone
//   after it (the addon's own area unregistered and freed), unless a view of the area was created
//   meanwhile. Returns fn's result; an exception fn throws still ends the probe and propagates.
// - externalBuffers() answers whether this runtime allows external ArrayBuffers (a V8 sandbox does
//   not) by wrapping 8 bytes of this thread's own, once per thread: never the area, whose one view
//   must stay free for the fast path (V8 refuses two external buffers over the same memory).
Napi::Value WithThreadArea(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    Napi::TypeError::New(env, "withThreadArea: argument 0 must be a function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const ThreadData* data = env.GetInstanceData<ThreadData>();
  bool viewBefore = data->viewTried;
  BeginAreaProbe();
  Napi::Value result = info[0].As<Napi::Function>().Call({});
  EndAreaProbe(data->viewTried != viewBefore);
  return result;
}

Napi::Value ExternalBuffers(const Napi::CallbackInfo& info) {
  thread_local uint8_t bytes[8];
  thread_local int allowed = -1;  // unknown until asked
  Napi::Env env = info.Env();
  if (allowed < 0) {
    napi_value buffer;
    allowed = napi_create_external_arraybuffer(env, bytes, sizeof(bytes), nullptr, nullptr, &buffer) == napi_ok;
    napi_value ignored;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) napi_get_and_clear_last_exception(env, &ignored);
  }
  return Napi::Boolean::New(env, allowed == 1);
}

Napi::Object ProbeExports(Napi::Env env) {
  Napi::Object probes = Napi::Object::New(env);
  probes.Set("withThreadArea", Napi::Function::New(env, WithThreadArea, "withThreadArea"));
  probes.Set("externalBuffers", Napi::Function::New(env, ExternalBuffers, "externalBuffers"));
  return probes;
}

}  // namespace
}  // namespace rseq_slice

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  using namespace rseq_slice;
  env.SetInstanceData(new ThreadData());
  exports.Set("areaInfo", Napi::Function::New(env, AreaInfo, "areaInfo"));
  exports.Set("areaView", Napi::Function::New(env, AreaView, "areaView"));
  exports.Set("readArea", Napi::Function::New(env, ReadArea, "readArea"));
  exports.Set("prctl", Napi::Function::New(env, Prctl, "prctl"));
  exports.Set("sliceYield", Napi::Function::New(env, Yield, "sliceYield"));
  exports.Set("schedGetcpu", Napi::Function::New(env, SchedCpu, "schedGetcpu"));
  exports.Set("enter", Napi::Function::New(env, Enter, "enter"));
  exports.Set("exit", Napi::Function::New(env, Exit, "exit"));
  exports.Set("sectionLoop", Napi::Function::New(env, SectionLoop, "sectionLoop"));
  exports.Set("execvp", Napi::Function::New(env, ExecVp, "execvp"));
  exports.Set("spinLockLoop", Napi::Function::New(env, SpinLockLoop, "spinLockLoop"));
  Napi::Object raw = Napi::Object::New(env);
  raw.Set("register", Napi::Function::New(env, RawRegister, "rawRegister"));
  raw.Set("unregister", Napi::Function::New(env, RawUnregister, "rawUnregister"));
  raw.Set("read", Napi::Function::New(env, RawRead, "rawRead"));
  raw.Set("ownAreas", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), OwnAreasRegistered());
  }, "ownAreas"));
  raw.Set("forkProbe", Napi::Function::New(env, ForkProbe, "forkProbe"));
  exports.Set("raw", raw);
  exports.Set("probes", ProbeExports(env));
  exports.Set("btrl", Napi::Boolean::New(env, RSEQ_SLICE_HAVE_BTRL != 0));
  exports.Set("sysRseq", Napi::Number::New(env, static_cast<double>(SysRseqNumber())));
  exports.Set("sysSliceYield", Napi::Number::New(env, static_cast<double>(SysSliceYieldNumber())));
  return exports;
}

NODE_API_MODULE(rseq_slice, InitAddon)
