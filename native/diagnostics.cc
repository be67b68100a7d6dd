// Internal diagnostics, not part of the package's API: entry points that exist only so the test
// suite and `rseq-slice check` (the conformance run shipped for kernel testers, lib/lab/conformance/)
// can ask the real kernel what no public call would ask. They ship in the binary because `check`
// ships; lib/addon/addon.ts types them as `diagnostics`, marked @internal.
#include "diagnostics.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <sys/wait.h>
#include <unistd.h>

#include "function_table.h"
#include "napi_args.h"
#include "rseq_abi.h"
#include "rseq_area.h"
#include "slice_syscalls.h"

namespace rseq_slice {
namespace {

// A separate area, as long and as aligned as an optimized registration on 7.x, registered with
// any length and flags, so every registration case can be asked of the real kernel
// (lib/lab/conformance/transcript.ts). Only for a thread that never used ThreadArea (glibc's
// registration off).
struct alignas(RSEQ_ALLOC_ALIGN_SLICE_EXT) RawArea {
  uint8_t bytes[RSEQ_ALLOC_ALIGN_SLICE_EXT];
};
thread_local RawArea rawArea;
thread_local uint32_t rawLength = 0;

Napi::Value RawRegister(const Napi::CallbackInfo& info) {
  Args args(info, "rawRegister");
  uint64_t length = 0;
  uint32_t flags = 0;
  if (!args.Integer(0, "length", 0, sizeof(RawArea), &length) || !args.Uint32(1, "flags", &flags))
    return info.Env().Undefined();
  std::memset(rawArea.bytes, 0, sizeof(rawArea.bytes));
  reinterpret_cast<Rseq*>(rawArea.bytes)->cpu_id = static_cast<uint32_t>(RSEQ_CPU_ID_UNINITIALIZED);
  // The kernel takes an int: flags above INT32_MAX arrive as the same 32 bits, as from C.
  long rc = RseqRegister(rawArea.bytes, static_cast<uint32_t>(length), static_cast<int>(flags));
  if (rc == 0) rawLength = static_cast<uint32_t>(length);
  return Napi::Number::New(info.Env(), static_cast<double>(rc));
}

Napi::Value RawUnregister(const Napi::CallbackInfo& info) {
  long rc = RseqUnregister(rawArea.bytes, rawLength);
  return Napi::Number::New(info.Env(), static_cast<double>(rc));
}

// The raw area's flags word.
Napi::Value RawFlags(const Napi::CallbackInfo& info) {
  const volatile Rseq* a = reinterpret_cast<const Rseq*>(rawArea.bytes);
  return Napi::Number::New(info.Env(), static_cast<double>(a->flags));
}

// fork() without exec (which Node cannot do) and report, from the child, prctl GET and the area's
// flags word as the exit status (GET in bit 0, ENABLED flag bit in bit 1; 100: GET failed), so a
// test can check that a fork child keeps its parent thread's extension state.
Napi::Value ForkProbe(const Napi::CallbackInfo& info) {
  const AreaState& s = CurrentAreaState();
  pid_t pid = fork();
  if (pid < 0) return Napi::Number::New(info.Env(), -errno);
  if (pid == 0) {
    // Only async-signal-safe calls in the child of a multi-threaded process.
    long get = SliceExtPrctl(PR_RSEQ_SLICE_EXTENSION_GET, 0, 0, 0);
    int enabledBit = s.area && (s.area->flags & RSEQ_CS_FLAG_SLICE_EXT_ENABLED) ? 2 : 0;
    _exit(get < 0 ? 100 : static_cast<int>(get) | enabledBit);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return Napi::Number::New(info.Env(), WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

Napi::Value OwnAreas(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), OwnAreasRegistered()); }

}  // namespace

Napi::Object Diagnostics(Napi::Env env) {
  return FunctionTable(env, {{"rawRegister", RawRegister},
                             {"rawUnregister", RawUnregister},
                             {"rawFlags", RawFlags},
                             {"forkProbe", ForkProbe},
                             {"ownAreas", OwnAreas}});
}

}  // namespace rseq_slice
