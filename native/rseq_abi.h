// The kernel's rseq ABI as this package uses it (Linux 7.0+ uapi, include/uapi/linux/rseq.h and
// include/uapi/linux/prctl.h), mirrored in one plain header: every ABI number of the native side
// is here, under the kernel's own name so a grep finds it in both trees. lib/kernel/abi.ts holds the
// TypeScript copy; test/lib/abi.test.ts holds it equal to what the addon exports (native/constants.cc).
// Offsets are checked below so a mistake here fails the build instead of corrupting a thread's
// area at run time.
#ifndef RSEQ_SLICE_RSEQ_ABI_H
#define RSEQ_SLICE_RSEQ_ABI_H

#include <cerrno>
#include <cstddef>
#include <cstdint>

// System headers define some of these names as macros, depending on their age. Include them
// first and define each group only where they lack it (as the kernel's selftests do); the
// static_asserts then check the system's values as well as ours.
#include <sys/auxv.h>     // AT_RSEQ_* (glibc's <elf.h> from 2.35)
#include <sys/prctl.h>    // PR_RSEQ_SLICE_* (<linux/prctl.h> from Linux 7.0)
#include <sys/syscall.h>  // __NR_rseq, __NR_rseq_slice_yield (from Linux 7.0)

// The area's layout is the public header's (include/rseq_slice.h, which consumer addons build
// with): one definition for both, checked below as well as there.
#include "../include/rseq_slice.h"

// prctl(PR_RSEQ_SLICE_EXTENSION, op, arg3, arg4, arg5): include/uapi/linux/prctl.h.
// PR_RSEQ_SLICE_EXT_ENABLE is the enable bit of GET's result and SET's arg3.
#ifndef PR_RSEQ_SLICE_EXTENSION
#define PR_RSEQ_SLICE_EXTENSION 79
#define PR_RSEQ_SLICE_EXTENSION_GET 1
#define PR_RSEQ_SLICE_EXTENSION_SET 2
#define PR_RSEQ_SLICE_EXT_ENABLE 0x01
#endif
static_assert(PR_RSEQ_SLICE_EXTENSION == 79 && PR_RSEQ_SLICE_EXTENSION_GET == 1 && PR_RSEQ_SLICE_EXTENSION_SET == 2 &&
                  PR_RSEQ_SLICE_EXT_ENABLE == 1,
              "PR_RSEQ_SLICE_* as in include/uapi/linux/prctl.h");

// getauxval keys: include/uapi/linux/auxvec.h.
#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#define AT_RSEQ_ALIGN 28
#endif
static_assert(AT_RSEQ_FEATURE_SIZE == 27 && AT_RSEQ_ALIGN == 28, "AT_RSEQ_* as in include/uapi/linux/auxvec.h");

// The kernel-internal errno prctl answers when the feature is off (include/linux/errno.h); libc
// has no name for it.
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif
static_assert(ENOTSUPP == 524, "ENOTSUPP as in include/linux/errno.h");

// rseq_slice_yield(): include/rseq_slice.h defines __NR_rseq_slice_yield where the system lacks it.
#if defined(__NR_rseq_slice_yield) && (defined(__x86_64__) || defined(__aarch64__))
static_assert(__NR_rseq_slice_yield == 471, "rseq_slice_yield as in the x86-64 and generic syscall tables");
#endif

namespace rseq_slice {

// slice_ctrl (`all`, or the bytes `request`, `granted`, `reserved`) and the area: the public
// header's C types, with who writes each field.
using SliceCtrl = ::rseq_slice_control;
using Rseq = ::rseq_slice_area;

static_assert(offsetof(Rseq, cpu_id_start) == 0, "cpu_id_start offset");
static_assert(offsetof(Rseq, cpu_id) == 4, "cpu_id offset");
static_assert(offsetof(Rseq, rseq_cs) == 8, "rseq_cs offset");
static_assert(offsetof(Rseq, flags) == 16, "flags offset");
static_assert(offsetof(Rseq, node_id) == 20, "node_id offset");
static_assert(offsetof(Rseq, mm_cid) == 24, "mm_cid offset");
static_assert(offsetof(Rseq, slice_ctrl) == 28, "slice_ctrl offset");
static_assert(offsetof(SliceCtrl, bytes.request) == 0, "request is the first byte of slice_ctrl");
static_assert(offsetof(SliceCtrl, bytes.granted) == 1, "granted is the second byte of slice_ctrl");
static_assert(offsetof(SliceCtrl, bytes.reserved) == 2, "reserved bytes follow granted");
static_assert(sizeof(SliceCtrl) == 4, "slice_ctrl is one u32");
static_assert(sizeof(Rseq) == 32, "the original struct rseq is 32 bytes");
static_assert(alignof(Rseq) == 32, "struct rseq is 32-byte aligned");

// The names below are enumerators of include/uapi/linux/rseq.h (and glibc's <sys/rseq.h>), not
// macros: scoped in this namespace they cannot clash with those headers' global ones.

// ORIG_RSEQ_SIZE (kernel/rseq.c): a registration of exactly 32 bytes is "legacy".
constexpr uint32_t ORIG_RSEQ_SIZE = 32;
// Feature size of kernels before AT_RSEQ_FEATURE_SIZE (the fields up to node_id's end). Our name:
// the kernel has none.
constexpr uint32_t RSEQ_ORIGINAL_FEATURE_SIZE = 20;

// offsetof(struct rseq, end), the AT_RSEQ_FEATURE_SIZE kernels answer: up to mm_cid (6.3 to 6.x),
// and with slice_ctrl plus the one __reserved byte uapi puts after it (7.0 on). Our names.
constexpr uint32_t RSEQ_FEATURE_SIZE_MM_CID = 28;
constexpr uint32_t RSEQ_FEATURE_SIZE_SLICE_EXT = 33;
static_assert(RSEQ_FEATURE_SIZE_MM_CID == offsetof(Rseq, mm_cid) + sizeof(uint32_t), "ends after mm_cid");
static_assert(RSEQ_FEATURE_SIZE_SLICE_EXT == sizeof(Rseq) + 1, "ends after slice_ctrl and the reserved byte");
// rseq_alloc_align() (include/linux/rseq.h) on 7.0 on: the feature size rounded up to a power of
// two, which AT_RSEQ_ALIGN answers; an optimized registration is this long. Our name.
constexpr uint32_t RSEQ_ALLOC_ALIGN_SLICE_EXT = 64;
static_assert(RSEQ_ALLOC_ALIGN_SLICE_EXT / 2 < RSEQ_FEATURE_SIZE_SLICE_EXT &&
                  RSEQ_FEATURE_SIZE_SLICE_EXT <= RSEQ_ALLOC_ALIGN_SLICE_EXT &&
                  (RSEQ_ALLOC_ALIGN_SLICE_EXT & (RSEQ_ALLOC_ALIGN_SLICE_EXT - 1)) == 0,
              "the next power of two of the feature size");

// enum rseq_cpu_id_state: what cpu_id holds outside a registration.
constexpr int32_t RSEQ_CPU_ID_UNINITIALIZED = -1;
constexpr int32_t RSEQ_CPU_ID_REGISTRATION_FAILED = -2;

// enum rseq_flags: the rseq syscall's `flags` argument.
constexpr int RSEQ_FLAG_UNREGISTER = 1 << 0;
constexpr int RSEQ_FLAG_SLICE_EXT_DEFAULT_ON = 1 << 1;

// enum rseq_cs_flags_bit / rseq_cs_flags: struct rseq.flags bits the kernel writes.
constexpr uint32_t RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE_BIT = 4;
constexpr uint32_t RSEQ_CS_FLAG_SLICE_EXT_ENABLED_BIT = 5;
constexpr uint32_t RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE = 1u << RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE_BIT;
constexpr uint32_t RSEQ_CS_FLAG_SLICE_EXT_ENABLED = 1u << RSEQ_CS_FLAG_SLICE_EXT_ENABLED_BIT;

// The signature the rseq syscall registers with (the 4 bytes before an abort handler: this package has
// none, but the kernel checks the same value on unregistration), as librseq's and glibc's RSEQ_SIG; 0 where unknown.
#if defined(__x86_64__) || defined(__i386__)
constexpr uint32_t RSEQ_SIG = 0x53053053;  // x86: "ud1" with this immediate
#elif defined(__aarch64__)
constexpr uint32_t RSEQ_SIG = 0xd428bc00;  // arm64: "brk #0x45e0"
#elif defined(__riscv)
constexpr uint32_t RSEQ_SIG = 0xf1401073;  // riscv: "csrr mhartid, x0"
#else
constexpr uint32_t RSEQ_SIG = 0;
#endif

// Bit of `request` in slice_ctrl.all on little-endian machines (the x86-64 btrl path relies on
// it), as tools/testing/selftests/rseq/slice_test.c names it.
constexpr uint32_t RSEQ_SLICE_EXT_REQUEST_BIT = RSEQ_SLICE_REQUEST_BIT;
static_assert(RSEQ_SLICE_EXT_REQUEST_BIT == 0, "request is bit 0 of slice_ctrl.all");

// The extension length the kernel accepts in debugfs rseq/slice_ext_nsec (kernel/rseq.c:
// rseq_slice_ext_nsecs_min, _max, and the boot value rseq_slice_ext_nsecs). Our names.
constexpr uint32_t SLICE_EXT_NSEC_MIN = 5000;
constexpr uint32_t SLICE_EXT_NSEC_MAX = 50000;
constexpr uint32_t SLICE_EXT_NSEC_DEFAULT = SLICE_EXT_NSEC_MIN;

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_RSEQ_ABI_H
