// Internal diagnostics, not part of the package's API: entry points that exist only so the test
// suite and `rseq-slice check` (the conformance run shipped for kernel testers, lib/lab/conformance/)
// can ask the real kernel what no public call would ask. They ship in the binary because `check`
// ships; lib/addon/addon.ts types them as `diagnostics`, marked @internal.
#include "diagnostics.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "function_table.h"
#include "monotonic_clock.h"
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

// What `rseq-slice check` does at the instant the kernel grants (lib/lab/conformance/instants.ts
// names them; the numbers are that file's).
enum class Instant : uint32_t {
  kSyscall = 0,          // getppid() while granted (R19)
  kDisable = 1,          // prctl(SET, 0) while granted, then SET 1 again (R21)
  kHold = 2,             // keep spinning until the kernel ends the grant (R17, R18)
  kYield = 3,            // rseq_slice_yield() while granted (R20)
  kUngrantedSyscall = 4  // request set, getppid() at once, no grant awaited (R27)
};
constexpr uint32_t kInstantCount = 5;

// Sets `request` on the calling thread's area and spins until the kernel grants (the word reads
// granted = 1) or `waitNs` passes; between attempts the kernel may clear the word without a grant
// (the thread was scheduled, or other work was pending), and the request is set again. Then does
// `action` at once, with nothing but loads and the clock (vDSO) in between, and reports what the
// kernel left: [granted, waitedNs, attempts, answer, wordAfter, flagsAfter, getAfter, heldNs,
// ended, laterYield]. The competing thread that makes the kernel want the CPU is the caller's.
Napi::Value GrantInstant(const Napi::CallbackInfo& info) {
  Args args(info, "grantInstant");
  uint32_t action = 0;
  uint64_t waitNs = 0;
  uint64_t holdLimitNs = 0;
  if (!args.Uint32(0, "action", &action) || !args.Integer(1, "waitNs", 1, 60000000000ull, &waitNs) ||
      !args.Integer(2, "holdLimitNs", 1, 10000000000ull, &holdLimitNs))
    return info.Env().Undefined();
  Napi::Env env = info.Env();
  if (action >= kInstantCount) {
    Napi::RangeError::New(env, "grantInstant: action must be 0 to 4").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const AreaState& s = CurrentAreaState();
  if (!s.area || s.length <= ORIG_RSEQ_SIZE) return Napi::Number::New(env, -ENXIO);
  volatile uint32_t* word = &s.area->slice_ctrl.all;
  const volatile uint32_t* flags = &s.area->flags;
  constexpr uint32_t kRequest = 1u << RSEQ_SLICE_EXT_REQUEST_BIT;
  constexpr uint32_t kGranted = 1u << 8;  // the `granted` byte, little-endian
  double out[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  auto finish = [&]() {
    Napi::Array result = Napi::Array::New(env, 10);
    for (uint32_t i = 0; i < 10; i++) result.Set(i, out[i]);
    return result;
  };
  // Clears `request` in one locked instruction (the kernel writes the word only at an interrupt
  // return, which cannot split it), and ends a grant that came meanwhile with a yield: a plain
  // store of 0 over a grant is what rseq_debug=1 kills (R24). The yield's answer, or 0.
  auto dropRequest = [&]() -> double {
    uint32_t old = __atomic_fetch_and(word, ~kRequest, __ATOMIC_RELAXED);
    return old & kRequest ? 0 : static_cast<double>(SliceYield());
  };
  const auto act = static_cast<Instant>(action);
  if (act == Instant::kUngrantedSyscall) {
    *word = kRequest;
    long ppid = syscall(SYS_getppid);
    out[4] = *word;
    out[2] = 1;
    out[3] = ppid == getppid() ? 1 : 0;  // the syscall answered as outside any section
    out[9] = dropRequest();
    return finish();
  }
  const uint64_t start = MonotonicNs();
  const uint64_t deadline = start + waitNs;
  uint32_t attempts = 0;
  uint32_t seen = 0;
  uint64_t now = start;
  do {
    *word = kRequest;
    attempts++;
    while ((seen = *word) == kRequest && now < deadline) now = MonotonicNs();
  } while (seen != kGranted && now < deadline);
  out[1] = static_cast<double>(now - start);
  out[2] = attempts;
  if (seen != kGranted) {
    out[9] = dropRequest();
    return finish();
  }
  const uint64_t grantedAt = now;
  out[0] = 1;
  long answer = 0;
  switch (act) {
    case Instant::kSyscall: {
      long ppid = syscall(SYS_getppid);  // the syscall inside the grant, before getppid() checks it
      answer = ppid == getppid() ? 1 : 0;
      break;
    }
    case Instant::kDisable: answer = SliceExtPrctl(PR_RSEQ_SLICE_EXTENSION_SET, 0, 0, 0); break;
    case Instant::kYield: answer = SliceYield(); break;
    case Instant::kHold: {
      // The time of the last read that still saw the grant, and whether the kernel ended it in time.
      uint64_t last = grantedAt;
      for (;;) {
        uint64_t t = MonotonicNs();
        if (*word != kGranted) break;
        last = t;
        if (t >= grantedAt + holdLimitNs) break;
      }
      out[7] = static_cast<double>(last - grantedAt);
      out[8] = *word == kGranted ? 0 : 1;
      break;
    }
    case Instant::kUngrantedSyscall: break;
  }
  out[3] = static_cast<double>(answer);
  out[4] = *word;
  out[5] = *flags;
  out[6] = static_cast<double>(SliceExtPrctl(PR_RSEQ_SLICE_EXTENSION_GET, 0, 0, 0));
  // The grant is over by now on a conforming kernel (the GET above is a syscall): this answers 0.
  out[9] = static_cast<double>(SliceYield());
  if (act == Instant::kDisable) SliceExtPrctl(PR_RSEQ_SLICE_EXTENSION_SET, PR_RSEQ_SLICE_EXT_ENABLE, 0, 0);
  return finish();
}

}  // namespace

Napi::Object Diagnostics(Napi::Env env) {
  return FunctionTable(env, {{"rawRegister", RawRegister},
                             {"rawUnregister", RawUnregister},
                             {"rawFlags", RawFlags},
                             {"forkProbe", ForkProbe},
                             {"ownAreas", OwnAreas},
                             {"grantInstant", GrantInstant}});
}

}  // namespace rseq_slice
