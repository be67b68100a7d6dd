#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rseq_area.h"

#include <dlfcn.h>
#include <sys/auxv.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "slice_syscalls.h"

// glibc 2.34 moved dlsym into libc and gave it a new version; a plain link against a newer glibc
// binds dlsym@GLIBC_2.34 and the binary fails to load on 2.28-2.33 (Node 20's floor is 2.28).
// Bind the architecture's original version instead: libdl.so.2 (-ldl) exports it before 2.34,
// libc.so.6 keeps it as a compat symbol after. test/repo/glibc_floor.test.ts checks every version.
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
#elif defined(__GLIBC__) && defined(__aarch64__)
__asm__(".symver dlsym,dlsym@GLIBC_2.17");
#endif

namespace rseq_slice {

namespace {

char* ThreadPointer() {
#if defined(__x86_64__)
  char* tp;
  __asm__("mov %%fs:0, %0" : "=r"(tp));
  return tp;
#else
  return static_cast<char*>(__builtin_thread_pointer());
#endif
}

Environment ReadEnvironment() {
  Environment env{};
  void* offset = dlsym(RTLD_DEFAULT, "__rseq_offset");
  void* size = dlsym(RTLD_DEFAULT, "__rseq_size");
  env.libcSymbols = offset != nullptr && size != nullptr;
  if (env.libcSymbols) {
    env.libcRseqOffset = *static_cast<const ptrdiff_t*>(offset);
    env.libcRseqSize = *static_cast<const unsigned int*>(size);
  }
  env.auxFeatureSize = getauxval(AT_RSEQ_FEATURE_SIZE);
  env.auxAlign = getauxval(AT_RSEQ_ALIGN);
  return env;
}

// Kernels without AT_RSEQ_FEATURE_SIZE only know the original 20 bytes.
uint32_t KernelFeatureSize(const Environment& env) {
  return env.auxFeatureSize ? static_cast<uint32_t>(env.auxFeatureSize) : RSEQ_ORIGINAL_FEATURE_SIZE;
}

std::atomic<int> ownAreasRegistered{0};
std::atomic<void (*)(const void*)> releaseListener{nullptr};

// The addon's own area. Its destructor runs at thread exit (worker termination included), before
// the memory could be reused, so the kernel never writes into a freed area.
struct OwnArea {
  Rseq* area = nullptr;
  uint32_t length = 0;
  // Unregisters and frees the area: 0, or -errno with the area kept (the kernel may still write
  // there, so the bytes are leaked rather than freed).
  long Release() {
    if (area == nullptr) return 0;
    long rc = RseqUnregister(area, length);
    if (rc != 0) return rc;
    // Whoever kept the address (native_api.cc's rseq_slice_thread) forgets it before it is freed.
    if (auto listener = releaseListener.load()) listener(area);
    std::free(area);
    ownAreasRegistered--;
    area = nullptr;
    length = 0;
    return 0;
  }
  ~OwnArea();
};

thread_local OwnArea ownArea;
thread_local AreaState state;
thread_local bool resolved = false;
thread_local int probeDepth = 0;            // nested BeginAreaProbe calls still open
thread_local bool resolvedByProbe = false;  // the first resolution ran inside a probe

// At thread exit: once the area is gone, ThreadArea answers "no area" for the rest of the exit
// (other thread_local destructors may still open sections) and never registers again, which would
// put a new area in an OwnArea already destroyed.
OwnArea::~OwnArea() {
  if (area == nullptr || Release() != 0) return;
  state = AreaState{};
  resolved = true;
}

void RegisterOwn(const Environment& env, bool defaultOn) {
  uint32_t feature = KernelFeatureSize(env);
  uint32_t align = std::max<uint32_t>(alignof(Rseq), static_cast<uint32_t>(env.auxAlign));
  // A longer-than-32-byte registration is what kernels with the extension call optimized; on
  // older kernels (feature size <= 32) the original 32 bytes are what they accept.
  uint32_t length = feature <= ORIG_RSEQ_SIZE ? ORIG_RSEQ_SIZE : (feature + align - 1) / align * align;
  void* mem = std::aligned_alloc(align, length);
  if (mem == nullptr) {
    state.error = ENOMEM;
    return;
  }
  std::memset(mem, 0, length);
  Rseq* area = static_cast<Rseq*>(mem);
  area->cpu_id = static_cast<uint32_t>(RSEQ_CPU_ID_UNINITIALIZED);

  long rc = -EINVAL;
  if (defaultOn) {
    rc = RseqRegister(area, length, RSEQ_FLAG_SLICE_EXT_DEFAULT_ON);
    if (rc == 0) state.defaultOn = true;
  }
  // Kernels that do not know the default-on flag answer EINVAL: register without it.
  if (!defaultOn || rc == -EINVAL) rc = RseqRegister(area, length, 0);
  if (rc != 0) {
    std::free(mem);
    state.error = static_cast<int>(-rc);
    state.defaultOn = false;
    return;
  }
  ownArea.area = area;
  ownArea.length = length;
  ownAreasRegistered++;
  state.area = area;
  state.owner = AreaOwner::kAddon;
  state.length = length;
  state.featureSize = feature;
}

}  // namespace

const Environment& GetEnvironment() {
  static const Environment env = ReadEnvironment();
  return env;
}

const AreaState& CurrentAreaState() { return state; }

int OwnAreasRegistered() { return ownAreasRegistered.load(); }

void SetOwnAreaReleaseListener(void (*listener)(const void* area)) { releaseListener.store(listener); }

const AreaState& ThreadArea(bool defaultOn) {
  if (resolved) return state;
  resolved = true;
  resolvedByProbe = probeDepth > 0;
  const Environment& env = GetEnvironment();
  if (env.libcSymbols && env.libcRseqSize > 0) {
    Rseq* area = reinterpret_cast<Rseq*>(ThreadPointer() + env.libcRseqOffset);
    // libc registers per thread; when the kernel refused this thread's registration, fall
    // through and try our own, which reports the real errno (ENOSYS, EPERM from seccomp…).
    if (static_cast<int32_t>(area->cpu_id) == RSEQ_CPU_ID_REGISTRATION_FAILED) {
      RegisterOwn(env, defaultOn);
      return state;
    }
    state.area = area;
    state.owner = AreaOwner::kLibc;
    uint32_t size = env.libcRseqSize;
    // glibc 2.35-2.40 register 32 bytes and report 32 or 20; from 2.41 __rseq_size is the
    // feature size they registered for.
    if (size == RSEQ_ORIGINAL_FEATURE_SIZE || size == ORIG_RSEQ_SIZE) {
      state.length = ORIG_RSEQ_SIZE;
      state.featureSize = std::min(KernelFeatureSize(env), ORIG_RSEQ_SIZE);
    } else {
      state.length = size;
      state.featureSize = size;
    }
    return state;
  }
  RegisterOwn(env, defaultOn);
  return state;
}

void BeginAreaProbe() { probeDepth++; }

long EndAreaProbe(bool keep) {
  if (probeDepth == 0 || --probeDepth > 0 || !resolvedByProbe) return 0;
  resolvedByProbe = false;
  if (keep) return 0;
  // kernel/rseq.c rseq_unregister -> rseq_reset() zeroes current->rseq (include/linux/rseq.h),
  // the extension's enabled state included: the task is as if it had never registered.
  bool own = ownArea.area != nullptr;  // libc's area is only forgotten here, never unregistered
  long rc = ownArea.Release();
  if (rc != 0) return rc;
  state = AreaState{};
  resolved = false;
  return own ? 1 : 0;
}

}  // namespace rseq_slice
