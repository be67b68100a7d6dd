/* The consumer's C11 part: the header's N-API helper and a section, from C. */
#include <node_api.h>

#include "rseq_slice.h"

const char* consumer_take_api_from_c(napi_env env, napi_value value, const struct rseq_slice_api** out) {
  return rseq_slice_api_from_napi(env, value, out);
}

/* One empty section on the calling thread, through the table's area for it. */
long consumer_c_section(const struct rseq_slice_api* api) {
  struct rseq_slice_thread* thread = api->thread();
  rseq_slice_begin(thread);
  return rseq_slice_end(thread);
}
