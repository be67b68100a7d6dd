/**
 * The kernel's rseq ABI numbers, the same as native/rseq_abi.h (which checks them with
 * static_assert). See README "Kernel ABI".
 */

/** Byte offsets inside `struct rseq`. */
export const OFFSET_CPU_ID_START = 0;
export const OFFSET_CPU_ID = 4;
export const OFFSET_RSEQ_CS = 8;
export const OFFSET_FLAGS = 16;
export const OFFSET_NODE_ID = 20;
export const OFFSET_MM_CID = 24;
export const OFFSET_SLICE_CTRL = 28;
export const OFFSET_REQUEST = 28;
export const OFFSET_GRANTED = 29;
/** Size of the original `struct rseq`; a registration of exactly this length is "legacy". */
export const ORIG_RSEQ_SIZE = 32;
/** Feature size of kernels that predate `AT_RSEQ_FEATURE_SIZE`. */
export const RSEQ_ORIGINAL_FEATURE_SIZE = 20;

export const RSEQ_CPU_ID_UNINITIALIZED = -1;
export const RSEQ_CPU_ID_REGISTRATION_FAILED = -2;

/** `struct rseq.flags` bits written by the kernel. */
export const RSEQ_FLAG_SLICE_EXT_AVAILABLE = 1 << 4;
export const RSEQ_FLAG_SLICE_EXT_ENABLED = 1 << 5;

/** Registration flags of the rseq syscall. */
export const RSEQ_FLAG_UNREGISTER = 1 << 0;
export const RSEQ_FLAG_SLICE_EXT_DEFAULT_ON = 1 << 1;

/** prctl(PR_RSEQ_SLICE_EXTENSION, op, arg3, arg4, arg5). */
export const PR_RSEQ_SLICE_EXTENSION = 79;
export const PR_RSEQ_SLICE_EXTENSION_GET = 1;
export const PR_RSEQ_SLICE_EXTENSION_SET = 2;
export const PR_RSEQ_SLICE_EXT_ENABLE = 1;

/** Kernel-internal errno for "not supported"; libc has no name for it. */
export const ENOTSUPP = 524;

/** Extension length bounds of debugfs `rseq/slice_ext_nsec`. */
export const SLICE_EXT_NSEC_DEFAULT = 5000;
export const SLICE_EXT_NSEC_MIN = 5000;
export const SLICE_EXT_NSEC_MAX = 50000;

/** Section outcomes, numbered as native/fast_path.h returns them. */
export const OUTCOMES = ['clean', 'yielded', 'raced', 'revoked'] as const;
export type Outcome = (typeof OUTCOMES)[number];
