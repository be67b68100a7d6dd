// Built on operating systems other than Linux, where there is no rseq: the addon loads and says
// so, and lib/ runs the simulator.
#include <napi.h>

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("unsupported", Napi::String::New(env, "rseq exists only on Linux"));
  return exports;
}

NODE_API_MODULE(rseq_slice, InitAddon)
