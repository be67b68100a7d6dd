// The addon's `constants`: every ABI number of native/rseq_abi.h and the section outcomes of
// include/rseq_slice.h, named as lib/kernel/abi.ts names them, so test/lib/abi.test.ts can hold the
// TypeScript copy equal to the one the C++ side compiles with. Architecture-specific numbers (syscall numbers,
// RSEQ_SIG) stay out: the TypeScript side needs none of them.
#include "constants.h"

#include <cstddef>

#include "rseq_abi.h"

namespace rseq_slice {

Napi::Object AbiConstants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  auto set = [&](const char* name, double value) { c.Set(name, Napi::Number::New(env, value)); };
  set("OFFSET_CPU_ID_START", offsetof(Rseq, cpu_id_start));
  set("OFFSET_CPU_ID", offsetof(Rseq, cpu_id));
  set("OFFSET_FLAGS", offsetof(Rseq, flags));
  set("OFFSET_NODE_ID", offsetof(Rseq, node_id));
  set("OFFSET_MM_CID", offsetof(Rseq, mm_cid));
  set("OFFSET_SLICE_CTRL", offsetof(Rseq, slice_ctrl));
  set("OFFSET_REQUEST", offsetof(Rseq, slice_ctrl) + offsetof(SliceCtrl, bytes.request));
  set("OFFSET_GRANTED", offsetof(Rseq, slice_ctrl) + offsetof(SliceCtrl, bytes.granted));
  set("ORIG_RSEQ_SIZE", ORIG_RSEQ_SIZE);
  set("RSEQ_ORIGINAL_FEATURE_SIZE", RSEQ_ORIGINAL_FEATURE_SIZE);
  set("RSEQ_FEATURE_SIZE_MM_CID", RSEQ_FEATURE_SIZE_MM_CID);
  set("RSEQ_FEATURE_SIZE_SLICE_EXT", RSEQ_FEATURE_SIZE_SLICE_EXT);
  set("RSEQ_ALLOC_ALIGN_SLICE_EXT", RSEQ_ALLOC_ALIGN_SLICE_EXT);
  set("RSEQ_CPU_ID_UNINITIALIZED", RSEQ_CPU_ID_UNINITIALIZED);
  set("RSEQ_CPU_ID_REGISTRATION_FAILED", RSEQ_CPU_ID_REGISTRATION_FAILED);
  set("RSEQ_FLAG_UNREGISTER", RSEQ_FLAG_UNREGISTER);
  set("RSEQ_FLAG_SLICE_EXT_DEFAULT_ON", RSEQ_FLAG_SLICE_EXT_DEFAULT_ON);
  set("RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE_BIT", RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE_BIT);
  set("RSEQ_CS_FLAG_SLICE_EXT_ENABLED_BIT", RSEQ_CS_FLAG_SLICE_EXT_ENABLED_BIT);
  set("RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE", RSEQ_CS_FLAG_SLICE_EXT_AVAILABLE);
  set("RSEQ_CS_FLAG_SLICE_EXT_ENABLED", RSEQ_CS_FLAG_SLICE_EXT_ENABLED);
  set("RSEQ_SLICE_EXT_REQUEST_BIT", RSEQ_SLICE_EXT_REQUEST_BIT);
  set("PR_RSEQ_SLICE_EXTENSION", PR_RSEQ_SLICE_EXTENSION);
  set("PR_RSEQ_SLICE_EXTENSION_GET", PR_RSEQ_SLICE_EXTENSION_GET);
  set("PR_RSEQ_SLICE_EXTENSION_SET", PR_RSEQ_SLICE_EXTENSION_SET);
  set("PR_RSEQ_SLICE_EXT_ENABLE", PR_RSEQ_SLICE_EXT_ENABLE);
  set("AT_RSEQ_FEATURE_SIZE", AT_RSEQ_FEATURE_SIZE);
  set("AT_RSEQ_ALIGN", AT_RSEQ_ALIGN);
  set("ENOTSUPP", ENOTSUPP);
  set("SLICE_EXT_NSEC_MIN", SLICE_EXT_NSEC_MIN);
  set("SLICE_EXT_NSEC_MAX", SLICE_EXT_NSEC_MAX);
  set("SLICE_EXT_NSEC_DEFAULT", SLICE_EXT_NSEC_DEFAULT);
  set("OUTCOME_CLEAN", RSEQ_SLICE_CLEAN);
  set("OUTCOME_YIELDED", RSEQ_SLICE_YIELDED);
  set("OUTCOME_RACED", RSEQ_SLICE_RACED);
  set("OUTCOME_REVOKED", RSEQ_SLICE_REVOKED);
  c.Freeze();
  return c;
}

}  // namespace rseq_slice
