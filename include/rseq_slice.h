/*
 * rseq_slice.h: slice sections for native code, from the rseq-slice package (C11 and C++17).
 *
 * A section asks the Linux scheduler (the rseq time slice extension, Linux 7.0+) not to preempt
 * the calling thread until the section ends. Entering is one byte store; leaving is one
 * test-and-clear, plus the rseq_slice_yield() system call only when the kernel granted an
 * extension. Nothing here calls into rseq-slice's addon: the per-thread state comes from its
 * function table (struct rseq_slice_api, below), obtained once at the consumer addon's init from
 * JavaScript: `myAddon.init(require('rseq-slice').native)`. A thread gets its state once
 * (api->thread()) and passes it to rseq_slice_begin/rseq_slice_end, Section or SpinLock.
 *
 * Find this directory from binding.gyp:
 *   "include_dirs": ["<!(node -p \"require('rseq-slice').include\")"]
 *
 * Rules: sections of a thread nest as one (rseq-slice's JavaScript ones included): only the
 * outermost end clears the request and yields; no system call inside a section except the yield
 * this header makes at exit (any system call ends a grant); keep sections shorter than the
 * extension (5 us by default). A thread or kernel that cannot be granted anything has a NULL area,
 * and its sections cost a few instructions.
 *
 * Define RSEQ_SLICE_PORTABLE_FAST_PATH to use the portable byte load/store exit on x86-64 too.
 * Include node_api.h (or js_native_api.h) before this header, or define RSEQ_SLICE_WITH_NODE_API,
 * for rseq_slice_api_from_napi().
 */
#ifndef RSEQ_SLICE_H
#define RSEQ_SLICE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(RSEQ_SLICE_WITH_NODE_API) && !defined(SRC_JS_NATIVE_API_H_)
#include <node_api.h>
#endif

#ifdef __cplusplus
#include <atomic>
#define RSEQ_SLICE_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define RSEQ_SLICE_ALIGNOF(type) alignof(type)
extern "C" {
#else
#define RSEQ_SLICE_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define RSEQ_SLICE_ALIGNOF(type) _Alignof(type)
/* <unistd.h> declares syscall() only with _DEFAULT_SOURCE or _GNU_SOURCE, which strict -std=c11
   leaves off; this declaration is compatible with glibc's and musl's. (g++ always defines
   _GNU_SOURCE.) */
long syscall(long number, ...);
#endif

/* ---- The rseq area (the kernel's struct rseq, include/uapi/linux/rseq.h, Linux 7.0+) ---- */

/*
 * Names: every one starts with rseq_slice_/RSEQ_SLICE_ but none is the kernel's or libc's, so this
 * header can be included with <linux/rseq.h> or <sys/rseq.h> of any version (Linux 7.0's uapi
 * has a struct rseq_slice_ctrl, and libc may one day wrap the rseq_slice_yield system call).
 */

/*
 * slice_ctrl: one u32 the kernel also reads and clears as a whole. On little-endian machines
 * `request` is bit 0 and `granted` bit 8 of `all`; portable code addresses the bytes.
 */
union rseq_slice_control {
  uint32_t all;
  struct {
    /* User space sets 1 to enter a section. Cleared by user space at exit, or by the kernel when
       it grants (request 1 -> 0, granted 0 -> 1), revokes, or schedules the thread. */
    uint8_t request;
    /* Written by the kernel only: 1 while an extension is granted. User space must never write
       it (a debug kernel kills the thread at its next system call). */
    uint8_t granted;
    /* Nobody writes it (a debug kernel checks it stays 0 while granted). */
    uint16_t reserved;
  } bytes;
};

/*
 * The thread's registered rseq area, as far as sections use it. It is the kernel's layout; the
 * area itself belongs to whoever registered it (libc, or rseq-slice's addon): never register,
 * free or copy it, and write nothing but slice_ctrl.bytes.request (through the functions below).
 */
struct __attribute__((aligned(32))) rseq_slice_area {
  uint32_t cpu_id_start;               /* kernel: the CPU the thread runs on */
  uint32_t cpu_id;                     /* kernel: same, or -1 uninitialised / -2 registration failed */
  uint64_t rseq_cs;                    /* user: critical-section descriptor (sections do not use it) */
  uint32_t flags;                      /* kernel: bit 4 SLICE_EXT_AVAILABLE, bit 5 SLICE_EXT_ENABLED; read-only */
  uint32_t node_id;                    /* kernel: NUMA node */
  uint32_t mm_cid;                     /* kernel: concurrency id within the process */
  union rseq_slice_control slice_ctrl; /* user (request) and kernel (both): see above */
};

RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_area, cpu_id_start) == 0, "cpu_id_start offset");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_area, cpu_id) == 4, "cpu_id offset");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_area, rseq_cs) == 8, "rseq_cs offset");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_area, flags) == 16, "flags offset");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_area, node_id) == 20, "node_id offset");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_area, mm_cid) == 24, "mm_cid offset");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_area, slice_ctrl) == 28, "slice_ctrl offset");
RSEQ_SLICE_STATIC_ASSERT(offsetof(union rseq_slice_control, bytes.request) == 0, "request is byte 0 of slice_ctrl");
RSEQ_SLICE_STATIC_ASSERT(offsetof(union rseq_slice_control, bytes.granted) == 1, "granted is byte 1 of slice_ctrl");
RSEQ_SLICE_STATIC_ASSERT(offsetof(union rseq_slice_control, bytes.reserved) == 2, "reserved bytes follow granted");
RSEQ_SLICE_STATIC_ASSERT(sizeof(union rseq_slice_control) == 4, "slice_ctrl is one u32");
RSEQ_SLICE_STATIC_ASSERT(sizeof(struct rseq_slice_area) == 32, "the original struct rseq is 32 bytes");
RSEQ_SLICE_STATIC_ASSERT(RSEQ_SLICE_ALIGNOF(struct rseq_slice_area) == 32, "struct rseq is 32-byte aligned");

/* Bit of `request` in slice_ctrl.all on little-endian machines (the x86-64 btrl exit uses it). */
#define RSEQ_SLICE_REQUEST_BIT 0

/* rseq_slice_yield(): 471 in the x86-64 table and in the generic one (arm64, riscv64,
   loongarch64). Elsewhere, without the system's number, the yield answers -ENOSYS. */
#if !defined(__NR_rseq_slice_yield) && (defined(__x86_64__) || defined(__aarch64__) || \
                                        (defined(__riscv) && __riscv_xlen == 64) || defined(__loongarch64))
#define __NR_rseq_slice_yield 471
#endif

/* ---- The hot path ---- */

/* Outcomes of one section (rseq_slice_exit's result), numbered as the selftest counts them. */
enum rseq_slice_outcome {
  RSEQ_SLICE_CLEAN = 0,   /* request was still set: nothing happened (also: NULL area) */
  RSEQ_SLICE_YIELDED = 1, /* granted, and the yield gave the CPU up within the extension */
  RSEQ_SLICE_RACED = 2,   /* granted, but the grant ended before the yield (it answered 0) */
  RSEQ_SLICE_REVOKED = 3, /* both bytes clear: the grant was revoked or the thread was scheduled */
  RSEQ_SLICE_NESTED = 4   /* rseq_slice_end of an inner section: nothing done (the outermost end reports) */
};

static inline void rseq_slice_compiler_barrier(void) { __asm__ __volatile__("" ::: "memory"); }

/* A spin-wait hint to the CPU (x86 pause, arm64 yield; nothing elsewhere). */
static inline void rseq_slice_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* The rseq_slice_yield() system call: 1 when it ended a grant, 0 otherwise, -errno on failure (-ENOSYS before
   Linux 7.0). Leaves errno as it found it. */
static inline long rseq_slice_sys_yield(void) {
#ifdef __NR_rseq_slice_yield
  int saved = errno;
  long rc = syscall(__NR_rseq_slice_yield);
  if (rc < 0) rc = -(long)errno;
  errno = saved;
  return rc;
#else
  return -ENOSYS;
#endif
}

/* The raw primitives over an area, which do not nest (use rseq_slice_begin/rseq_slice_end below,
   which do): rseq-slice's own addon runs them under its nesting.
   Enters a section: one byte store of `request`, then a compiler barrier (nothing of the section
   moves before it). No atomic instruction: the area is only ever touched by this thread's CPU. */
static inline void rseq_slice_enter(struct rseq_slice_area* area) {
  if (__builtin_expect(area == NULL, 0)) return;
  *(volatile uint8_t*)&area->slice_ctrl.bytes.request = 1;
  rseq_slice_compiler_barrier();
}

/* Clears `request` and says whether it was still set. */
#if defined(__x86_64__) && !defined(RSEQ_SLICE_PORTABLE_FAST_PATH)
#define RSEQ_SLICE_HAVE_BTRL 1
/* One non-locked `btrl $0` clears `request` and reports whether it was still set, atomically with
   respect to interrupts on this CPU (a grant clears `request` and sets `granted`). */
static inline int rseq_slice_clear_request(struct rseq_slice_area* area) {
  bool was_set;
  __asm__ __volatile__("btrl %[bit], %[ctrl]"
                       : [ctrl] "+m"(area->slice_ctrl.all), "=@ccc"(was_set)
                       : [bit] "Ir"(RSEQ_SLICE_REQUEST_BIT)
                       : "memory");
  return was_set;
}
#else
#define RSEQ_SLICE_HAVE_BTRL 0
/* Plain byte load and store. A grant landing between the two is still seen: the caller reads
   `granted` after the store. */
static inline int rseq_slice_clear_request(struct rseq_slice_area* area) {
  volatile uint8_t* request = &area->slice_ctrl.bytes.request;
  int was_set = *request != 0;
  *request = 0;
  rseq_slice_compiler_barrier();
  return was_set;
}
#endif

/* Leaves a section: an rseq_slice_outcome, or -errno when the yield system call itself failed.
   The system call is made only when the kernel granted an extension (or revoked one, below). */
static inline long rseq_slice_exit(struct rseq_slice_area* area) {
  int was_set;
  uint8_t granted;
  long rc;
  if (__builtin_expect(area == NULL, 0)) return RSEQ_SLICE_CLEAN;
  rseq_slice_compiler_barrier();
  was_set = rseq_slice_clear_request(area);
  granted = *(volatile uint8_t*)&area->slice_ctrl.bytes.granted;
  if (granted != 0) {
    rc = rseq_slice_sys_yield();
    if (rc < 0) return rc;
    return rc == 1 ? RSEQ_SLICE_YIELDED : RSEQ_SLICE_RACED;
  }
  if (was_set) return RSEQ_SLICE_CLEAN;
  /* Revoked or scheduled. A revoked grant leaves the kernel's syscall-entry check armed, which on
     rseq_debug kernels makes a system call inside the next section fatal; a yield (answering 0,
     or -ENOSYS where nothing can have been granted) disarms it. */
  (void)rseq_slice_sys_yield();
  return RSEQ_SLICE_REVOKED;
}

/* ---- Sections that nest: one per thread, shared with JavaScript ---- */

/*
 * The calling thread's sections, one struct per thread, owned by rseq-slice's addon and shared by
 * every user of the thread: rseq-slice's JavaScript handles (open(), SliceMutex) and every addon
 * built on this header. The kernel sees one `request` byte per thread, so sections nest as one:
 * only the outermost begin sets `request`, and only the outermost end clears it and yields. A
 * native section opened inside a JavaScript one (or the reverse) never ends the outer one.
 * Get it once per thread from api->thread(); it stays valid until the thread exits.
 */
struct rseq_slice_thread {
  /* rseq-slice: the area sections request on, set when the extension is enabled for the thread;
     NULL otherwise (sections then only count depth). Read-only for users. */
  struct rseq_slice_area* area;
  /* Whoever begins or ends a section on this thread (only this thread): the sections open now,
     JavaScript's and native ones together. */
  int32_t depth;
  int32_t reserved; /* nobody writes it */
};
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_thread, area) == 0, "area first");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_thread, depth) == sizeof(void*), "depth after area");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_thread, reserved) == sizeof(void*) + 4, "reserved after depth");

/* Begins a section on the calling thread (`t` from api->thread()): only the outermost one sets
   `request`. No call, no atomic instruction. */
static inline void rseq_slice_begin(struct rseq_slice_thread* t) {
  if (t->depth++ == 0)
    rseq_slice_enter(t->area);
  else
    rseq_slice_compiler_barrier();
}

/* Ends a section: RSEQ_SLICE_NESTED for an inner one (nothing done); for the outermost, what
   rseq_slice_exit returns. -EINVAL without a section to end (nothing done). */
static inline long rseq_slice_end(struct rseq_slice_thread* t) {
  rseq_slice_compiler_barrier();
  if (__builtin_expect(t->depth <= 0, 0)) return -EINVAL;
  if (--t->depth != 0) return RSEQ_SLICE_NESTED;
  return rseq_slice_exit(t->area);
}

/* ---- The function table rseq-slice's addon exports (require('rseq-slice').native) ---- */

/*
 * Version rules: RSEQ_SLICE_API_VERSION changes only when a member changes meaning or place (an
 * incompatible change); a consumer accepts exactly its own version. Compatible additions append
 * members and leave the version alone: `size` (the provider's sizeof) tells which exist, and a
 * consumer accepts a table at least as large as the one it was compiled with.
 */
#define RSEQ_SLICE_API_VERSION 1

struct rseq_slice_api {
  uint32_t abi_version; /* RSEQ_SLICE_API_VERSION of the provider */
  uint32_t size;        /* sizeof(struct rseq_slice_api) of the provider */
  /* The calling thread's area: libc's registration, or an optimized one rseq-slice's addon
     registers (and unregisters at thread exit) when libc has none. NULL when the thread has no
     usable area (thread_error says why). Any thread; the same result on every call. */
  struct rseq_slice_area* (*thread_area)(void);
  /* Enables the extension for the calling thread (prctl(PR_RSEQ_SLICE_EXTENSION, SET, ENABLE)),
     finding the area first: 0, or -errno of the step that failed (also kept for thread_error).
     The kernel's answer does not change, so only the first call per thread asks it. */
  int (*thread_enable)(void);
  /* The calling thread's area when the extension is enabled for it, else NULL: the area to give
     sections. Calls thread_enable. */
  struct rseq_slice_area* (*thread_section_area)(void);
  /* Why the calling thread cannot be granted (calls thread_enable first): 0 when the extension is
     enabled, else the errno of the failing step. With `step` non-NULL, *step is set to a static
     string naming that step ("rseq registration", "prctl(PR_RSEQ_SLICE_EXTENSION, SET)"), or NULL
     when none failed. From prctl, EINVAL means a kernel before 7.0; ENOTSUPP (524) a kernel built
     without the extension or booted with it off, or a legacy 32-byte registration (glibc before
     2.41: run with GLIBC_TUNABLES=glibc.pthread.rseq=0 so rseq-slice registers an optimized area). */
  int (*thread_error)(const char** step);
  /* The calling thread's section state (never NULL; calls thread_enable): what rseq_slice_begin,
     rseq_slice_end, Section and SpinLock take. Its depth is the one rseq-slice's JavaScript
     handles of the thread count in, where the runtime allows external ArrayBuffers (not in a V8
     sandbox, e.g. Electron: there JavaScript and native sections nest separately). */
  struct rseq_slice_thread* (*thread)(void);
};

/* Members never move: a compatible change only appends. */
#define RSEQ_SLICE_API_MEMBER_OFFSET(k) (8 + (k) * sizeof(void (*)(void)))
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_api, abi_version) == 0, "abi_version first");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_api, size) == 4, "size second");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_api, thread_area) == RSEQ_SLICE_API_MEMBER_OFFSET(0),
                         "version 1 layout");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_api, thread_enable) == RSEQ_SLICE_API_MEMBER_OFFSET(1),
                         "version 1 layout");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_api, thread_section_area) == RSEQ_SLICE_API_MEMBER_OFFSET(2),
                         "version 1 layout");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_api, thread_error) == RSEQ_SLICE_API_MEMBER_OFFSET(3),
                         "version 1 layout");
RSEQ_SLICE_STATIC_ASSERT(offsetof(struct rseq_slice_api, thread) == RSEQ_SLICE_API_MEMBER_OFFSET(4),
                         "version 1 layout");

/* The type tag rseq-slice puts on its napi_external (napi_type_tag_object): fixed for good. */
#define RSEQ_SLICE_API_TAG_LOWER 0x7273657173c1a9e1ULL
#define RSEQ_SLICE_API_TAG_UPPER 0x5ab1e0a7e3f2d4c6ULL

#if defined(RSEQ_SLICE_WITH_NODE_API) || defined(SRC_NODE_API_H_) || defined(SRC_JS_NATIVE_API_H_)
#if NAPI_VERSION < 8
#error "rseq_slice_api_from_napi needs NAPI_VERSION 8 or later (napi_check_object_type_tag)"
#endif
/*
 * Takes the table out of `value` (require('rseq-slice').native, passed to the consumer's init).
 * Returns NULL and sets *out, or returns a message (a static string, nothing thrown) and sets *out
 * to NULL when `value` is not rseq-slice's table or is a version this header cannot use.
 */
static inline const char* rseq_slice_api_from_napi(napi_env env, napi_value value, const struct rseq_slice_api** out) {
  static const napi_type_tag tag = {RSEQ_SLICE_API_TAG_LOWER, RSEQ_SLICE_API_TAG_UPPER};
  napi_valuetype type;
  bool tagged = false;
  void* data = NULL;
  const struct rseq_slice_api* api;
  *out = NULL;
  if (napi_typeof(env, value, &type) != napi_ok)
    return "rseq-slice: could not inspect the value passed as its native API";
  if (type == napi_null || type == napi_undefined)
    return "rseq-slice: its native API is unavailable (require('rseq-slice').native is null where its addon "
           "did not load: see detect())";
  if (type != napi_external)
    return "rseq-slice: expected require('rseq-slice').native (a napi_external), got another kind of value";
  if (napi_check_object_type_tag(env, value, &tag, &tagged) != napi_ok || !tagged)
    return "rseq-slice: the external passed is not rseq-slice's native API (its type tag differs)";
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL)
    return "rseq-slice: could not read its native API from the external";
  api = (const struct rseq_slice_api*)data;
  if (api->abi_version != RSEQ_SLICE_API_VERSION)
    return api->abi_version > RSEQ_SLICE_API_VERSION
               ? "rseq-slice: the installed package's native API is newer (incompatible version) than the "
                 "rseq_slice.h this addon was built with: rebuild the addon against it"
               : "rseq-slice: the installed package's native API is older (incompatible version) than the "
                 "rseq_slice.h this addon was built with: upgrade rseq-slice";
  if (api->size < sizeof(struct rseq_slice_api))
    return "rseq-slice: the installed package's native API lacks functions the rseq_slice.h this addon was "
           "built with declares: upgrade rseq-slice";
  *out = api;
  return NULL;
}
#endif /* node_api.h */

#ifdef __cplusplus
} /* extern "C" */

/* ---- C++: an RAII section and a spin lock that holds a section while locked ---- */
namespace rseq_slice {

/* One section for the guard's lifetime, or until end(); nests with every other section of the
   thread (rseq_slice_begin/rseq_slice_end). */
class Section {
 public:
  explicit Section(rseq_slice_thread* thread) noexcept : thread_(thread) { rseq_slice_begin(thread_); }
  ~Section() {
    if (!ended_) (void)rseq_slice_end(thread_);
  }
  Section(const Section&) = delete;
  Section& operator=(const Section&) = delete;
  /* Ends the section early: see rseq_slice_end (-EINVAL when already ended). */
  long end() noexcept {
    if (ended_) return -EINVAL;
    ended_ = true;
    return rseq_slice_end(thread_);
  }

 private:
  rseq_slice_thread* thread_;
  bool ended_ = false;
};

/*
 * A test-and-test-and-set spin lock whose holder is in a section from just before it takes the
 * lock until it releases it, so the scheduler is asked not to preempt it while it holds the lock.
 * Waiting happens outside the lock's section. Each thread passes its own state (api->thread()).
 */
class SpinLock {
 public:
  SpinLock() noexcept = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void lock(rseq_slice_thread* thread) noexcept { lock(thread, IgnoreLostRace()); }
  /* As lock(thread), calling on_lost_race(outcome) with rseq_slice_end's result each time a
     section opened for the exchange is ended because another thread took the lock first: such an
     end may yield, so code that accounts for its yields (against the kernel's counters) sees
     every one. */
  template <typename OnLostRace>
  void lock(rseq_slice_thread* thread, OnLostRace&& on_lost_race) noexcept {
    for (;;) {
      while (word_.load(std::memory_order_relaxed) != 0) rseq_slice_cpu_relax();
      if (try_lock(thread, on_lost_race)) return;
    }
  }
  bool try_lock(rseq_slice_thread* thread) noexcept { return try_lock(thread, IgnoreLostRace()); }
  /* As try_lock(thread), reporting a lost race's section end as lock(thread, on_lost_race) does. */
  template <typename OnLostRace>
  bool try_lock(rseq_slice_thread* thread, OnLostRace&& on_lost_race) noexcept {
    if (word_.load(std::memory_order_relaxed) != 0) return false;
    rseq_slice_begin(thread);
    if (word_.exchange(1, std::memory_order_acquire) == 0) {
      holder_ = thread;
      return true;
    }
    on_lost_race(rseq_slice_end(thread));  // lost the race: wait outside the section
    return false;
  }
  /* Releases the lock, then ends the holder's section: see rseq_slice_end. */
  long unlock() noexcept {
    rseq_slice_thread* thread = holder_;
    word_.store(0, std::memory_order_release);
    return rseq_slice_end(thread);
  }

  /* RAII: locks for the guard's lifetime. */
  class Guard {
   public:
    Guard(SpinLock& lock, rseq_slice_thread* thread) noexcept : lock_(lock) { lock_.lock(thread); }
    ~Guard() {
      if (!unlocked_) (void)lock_.unlock();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    /* Unlocks early: the section's outcome (see SpinLock::unlock); -EINVAL when already unlocked. */
    long unlock() noexcept {
      if (unlocked_) return -EINVAL;
      unlocked_ = true;
      return lock_.unlock();
    }

   private:
    SpinLock& lock_;
    bool unlocked_ = false;
  };

 private:
  struct IgnoreLostRace {
    void operator()(long) const noexcept {}
  };
  std::atomic<int> word_{0};
  rseq_slice_thread* holder_ = nullptr;  // written and read by the holder only
};

}  // namespace rseq_slice
#endif /* __cplusplus */

#endif /* RSEQ_SLICE_H */
