#include "native_api.h"

#include <cerrno>

#include "../include/rseq_slice.h"
#include "rseq_abi.h"
#include "rseq_area.h"
#include "slice_syscalls.h"

namespace rseq_slice {

namespace {

// What thread_enable found for the calling thread, asked once per thread: the kernel's answer
// for a thread does not change while its registration stays. (A JavaScript disable() of the same
// thread later only means sections get no grants: requesting one without the extension is
// harmless.)
struct ApiThreadState {
  bool tried = false;
  int error = 0;               // errno of the failing step, 0 when enabled
  const char* step = nullptr;  // that step, nullptr when none failed
};
thread_local ApiThreadState apiState;

// The thread's sections (include/rseq_slice.h): `area` set by thread_enable once the extension is
// enabled (the one record of it: thread_section_area reads it too), `depth` shared with
// JavaScript through ThreadDepth().
thread_local rseq_slice_thread apiThread = {nullptr, 0, 0};

constexpr const char* kStepRegistration = "rseq registration";
constexpr const char* kStepPrctl = "prctl(PR_RSEQ_SLICE_EXTENSION, SET)";

// The thread's area as JavaScript finds it (native/rseq_area.h): libc's, or the addon's own
// optimized one, registered without the default-on flag (thread_enable turns it on).
rseq_slice_area* ApiThreadArea() { return ThreadArea(false).area; }

int ApiThreadEnable() {
  ApiThreadState& t = apiState;
  if (t.tried) return -t.error;
  t.tried = true;
  const AreaState& s = ThreadArea(false);
  if (s.area == nullptr) {
    t.error = s.error != 0 ? s.error : ENXIO;
    t.step = kStepRegistration;
    return -t.error;
  }
  long rc = SliceExtPrctl(PR_RSEQ_SLICE_EXTENSION_SET, PR_RSEQ_SLICE_EXT_ENABLE, 0, 0);
  if (rc < 0) {
    t.error = static_cast<int>(-rc);
    t.step = kStepPrctl;
    return -t.error;
  }
  apiThread.area = s.area;
  return 0;
}

rseq_slice_area* ApiThreadSectionArea() {
  ApiThreadEnable();
  return apiThread.area;
}

int ApiThreadError(const char** step) {
  ApiThreadEnable();
  if (step != nullptr) *step = apiState.step;
  return apiState.error;
}

rseq_slice_thread* ApiThread() {
  ApiThreadEnable();
  return &apiThread;
}

// rseq_area.cc is about to free one of the addon's own areas (this thread is exiting, or a probe
// ends): sections opened later (from another thread_local destructor) must not write into it.
// The next thread_enable asks afresh (at thread exit it finds no area and says so).
void ForgetReleasedArea(const void* area) {
  if (apiThread.area != area) return;
  apiThread.area = nullptr;
  apiState = ApiThreadState{};
}

// One table for the process: every environment (main thread, workers) exports the same pointer.
const rseq_slice_api kApi = {
    RSEQ_SLICE_API_VERSION, sizeof(rseq_slice_api), ApiThreadArea, ApiThreadEnable,
    ApiThreadSectionArea,   ApiThreadError,         ApiThread,
};

}  // namespace

int32_t* ThreadDepth() { return &apiThread.depth; }

napi_status NativeApiExternal(napi_env env, napi_value* result) {
  static const napi_type_tag tag = {RSEQ_SLICE_API_TAG_LOWER, RSEQ_SLICE_API_TAG_UPPER};
  // Only the table's functions set apiThread.area, and the table only reaches consumers here.
  SetOwnAreaReleaseListener(ForgetReleasedArea);
  napi_value external;
  // The table is static and read-only: no finalizer; consumers only read it.
  napi_status status = napi_create_external(env, const_cast<rseq_slice_api*>(&kApi), nullptr, nullptr, &external);
  if (status != napi_ok) return status;
  status = napi_type_tag_object(env, external, &tag);
  if (status != napi_ok) return status;
  *result = external;
  return napi_ok;
}

}  // namespace rseq_slice
