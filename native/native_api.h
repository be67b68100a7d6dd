// The C function table other addons use (include/rseq_slice.h `struct rseq_slice_api`), exported
// as `native`: a napi_external tagged with RSEQ_SLICE_API_TAG_*. Every addon that takes it shares
// this addon's per-thread state, so a thread is registered once however many addons use it.
#ifndef RSEQ_SLICE_NATIVE_API_H
#define RSEQ_SLICE_NATIVE_API_H

#include <node_api.h>

#include <cstdint>

namespace rseq_slice {

// The table, as a tagged external: napi_ok, or the status of the step that failed (then `native`
// is left out of the exports and lib/ reports it as null).
napi_status NativeApiExternal(napi_env env, napi_value* result);

// The calling thread's section depth (rseq_slice_thread.depth), which JavaScript's native handles
// count in too, so JavaScript and native sections of a thread nest as one. Enables nothing.
int32_t* ThreadDepth();

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_NATIVE_API_H
