/**
 * The kernel's rseq ABI numbers: the TypeScript copy of native/rseq_abi.h, under the kernel's uapi
 * names where it has one (include/uapi/linux/rseq.h, prctl.h, auxvec.h), so a grep finds the
 * same name in the kernel and here. The simulator runs from this copy where the addon is missing;
 * test/lib/abi.test.ts holds every number equal to the addon's `constants`. No ABI number is written
 * anywhere else in lib/. See docs/kernel-abi.md.
 */

/** Byte offsets inside `struct rseq` (ours: the kernel names only the fields). */
export const OFFSET_CPU_ID_START = 0;
export const OFFSET_CPU_ID = 4;
export const OFFSET_FLAGS = 16;
export const OFFSET_NODE_ID = 20;
export const OFFSET_MM_CID = 24;
export const OFFSET_SLICE_CTRL = 28;
export const OFFSET_REQUEST = 28;
export const OFFSET_GRANTED = 29;
/** Size of the original `struct rseq` (kernel/rseq.c); a registration of exactly this length is "legacy". */
export const ORIG_RSEQ_SIZE = 32;
/** Feature size of kernels that predate `AT_RSEQ_FEATURE_SIZE` (ours: the kernel has no name). */
export const RSEQ_ORIGINAL_FEATURE_SIZE = 20;
/** `offsetof(struct rseq, end)` (AT_RSEQ_FEATURE_SIZE): up to `mm_cid` (6.3 to 6.x), and with `slice_ctrl` plus uapi's reserved byte (7.0 on). Ours. */
export const RSEQ_FEATURE_SIZE_MM_CID = 28;
export const RSEQ_FEATURE_SIZE_SLICE_EXT = 33;
/** `rseq_alloc_align()` from 7.0 on (AT_RSEQ_ALIGN): the length of an optimized registration. Ours. */
export const RSEQ_ALLOC_ALIGN_SLICE_EXT = 64;

/** `enum rseq_cpu_id_state`: what `cpu_id` holds outside a registration. */
export const RSEQ_CPU_ID_UNINITIALIZED = -1;
export const RSEQ_CPU_ID_REGISTRATION_FAILED = -2;

/** `enum rseq_flags`: registration flags of the rseq syscall. */
export const RSEQ_FLAG_UNREGISTER = 1 << 0;
export const RSEQ_FLAG_SLICE_EXT_DEFAULT_ON = 1 << 1;

/** `enum rseq_cs_flags_bit` / `rseq_cs_flags`: `struct rseq.flags` bits written by the kernel. */
export const RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE_BIT = 4;
export const RSEQ_CS_FLAG_SLICE_EXT_ENABLED_BIT = 5;
export const RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE = 1 << RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE_BIT;
export const RSEQ_CS_FLAG_SLICE_EXT_ENABLED = 1 << RSEQ_CS_FLAG_SLICE_EXT_ENABLED_BIT;

/** Bit of `request` in `slice_ctrl.all` on little-endian machines (the selftest's name). */
export const RSEQ_SLICE_EXT_REQUEST_BIT = 0;

/** prctl(PR_RSEQ_SLICE_EXTENSION, op, arg3, arg4, arg5). */
export const PR_RSEQ_SLICE_EXTENSION = 79;
export const PR_RSEQ_SLICE_EXTENSION_GET = 1;
export const PR_RSEQ_SLICE_EXTENSION_SET = 2;
export const PR_RSEQ_SLICE_EXT_ENABLE = 1;

/** getauxval keys: the kernel's rseq feature size and the alignment an area needs. */
export const AT_RSEQ_FEATURE_SIZE = 27;
export const AT_RSEQ_ALIGN = 28;

/** Kernel-internal errno for "not supported"; libc has no name for it. */
export const ENOTSUPP = 524;

/**
 * Extension length bounds of debugfs `rseq/slice_ext_nsec` (kernel/rseq.c:
 * rseq_slice_ext_nsecs_min, _max; the boot value is the minimum).
 */
export const SLICE_EXT_NSEC_MIN = 5000;
export const SLICE_EXT_NSEC_MAX = 50000;
export const SLICE_EXT_NSEC_DEFAULT = SLICE_EXT_NSEC_MIN;

/** Section outcomes, numbered as include/rseq_slice.h's section exit returns them (`enum rseq_slice_outcome`). */
export const OUTCOME_CLEAN = 0;
export const OUTCOME_YIELDED = 1;
export const OUTCOME_RACED = 2;
export const OUTCOME_REVOKED = 3;
/** Outcome names, indexed by their number. */
export const OUTCOMES = Object.freeze(['clean', 'yielded', 'raced', 'revoked'] as const);
export type Outcome = (typeof OUTCOMES)[number];
