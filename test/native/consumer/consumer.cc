// A consumer addon of rseq-slice's native API (include/rseq_slice.h), for test/lib/consumer.test.ts.
// Sections run on the JavaScript thread, on libuv pool threads (napi_create_async_work) and on
// std::threads it starts, all contending for one rseq_slice::SpinLock that guards a plain
// (non-atomic) counter: a lost update would show as a count short of the sections run.
#include <node_api.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "rseq_slice.h"

extern "C" {
const char* consumer_take_api_from_c(napi_env env, napi_value value, const rseq_slice_api** out);
long consumer_c_section(const rseq_slice_api* api);
}

namespace {

const rseq_slice_api* api = nullptr;  // set by init; the same for every thread
rseq_slice::SpinLock lock;
uint64_t counter = 0;  // guarded by `lock`

// What one thread's run saw.
struct Counts {
  // sections: every section ended (locked ones and those a lost race ended, lostRaces of them),
  // each classified once in outcomes (or errors), so the yields counted are all the thread made.
  double sections = 0, locked = 0, lostRaces = 0, waited = 0, outcomes[4] = {}, errors = 0;
  int whyNot = 0;              // thread_error: errno of the failing step, 0 when enabled
  const char* step = nullptr;  // that step
  bool enabled = false;        // thread_section_area gave an area
  bool hasArea = false;        // thread_area found or registered one
};

// `n` sections on the calling thread, each incrementing the shared counter under the lock with a
// read, a pause and a write, so that two holders at once would lose an update.
Counts RunSections(uint32_t n) {
  Counts c;
  rseq_slice_thread* thread = api->thread();
  c.enabled = thread->area != nullptr && api->thread_section_area() == thread->area;
  c.hasArea = api->thread_area() != nullptr;
  c.whyNot = api->thread_error(&c.step);
  auto count = [&c](long outcome) {
    c.sections++;
    if (outcome >= 0 && outcome < 4)
      c.outcomes[outcome]++;
    else
      c.errors++;
  };
  auto lostRace = [&](long outcome) {
    c.lostRaces++;
    count(outcome);
  };
  for (uint32_t i = 0; i < n; i++) {
    if (!lock.try_lock(thread, lostRace)) {
      c.waited++;
      lock.lock(thread, lostRace);
    }
    uint64_t v = counter;
    for (int k = 0; k < 8; k++) rseq_slice_cpu_relax();
    counter = v + 1;
    c.locked++;
    count(lock.unlock());
  }
  return c;
}

#define CHECK(call)                                                 \
  do {                                                              \
    if ((call) != napi_ok) {                                        \
      napi_throw_error(env, nullptr, "consumer: " #call " failed"); \
      return nullptr;                                               \
    }                                                               \
  } while (0)

napi_value Num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

napi_value CountsObject(napi_env env, const Counts& c) {
  napi_value o, step;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "sections", Num(env, c.sections));
  napi_set_named_property(env, o, "waited", Num(env, c.waited));
  napi_set_named_property(env, o, "locked", Num(env, c.locked));
  napi_set_named_property(env, o, "lostRaces", Num(env, c.lostRaces));
  napi_set_named_property(env, o, "clean", Num(env, c.outcomes[RSEQ_SLICE_CLEAN]));
  napi_set_named_property(env, o, "yielded", Num(env, c.outcomes[RSEQ_SLICE_YIELDED]));
  napi_set_named_property(env, o, "raced", Num(env, c.outcomes[RSEQ_SLICE_RACED]));
  napi_set_named_property(env, o, "revoked", Num(env, c.outcomes[RSEQ_SLICE_REVOKED]));
  napi_set_named_property(env, o, "errors", Num(env, c.errors));
  napi_set_named_property(env, o, "whyNot", Num(env, c.whyNot));
  if (c.step != nullptr)
    napi_create_string_utf8(env, c.step, NAPI_AUTO_LENGTH, &step);
  else
    napi_get_null(env, &step);
  napi_set_named_property(env, o, "step", step);
  napi_value enabled;
  napi_get_boolean(env, c.enabled, &enabled);
  napi_set_named_property(env, o, "enabled", enabled);
  napi_value hasArea;
  napi_get_boolean(env, c.hasArea, &hasArea);
  napi_set_named_property(env, o, "hasArea", hasArea);
  return o;
}

bool GetArgs(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < want) {
    napi_throw_type_error(env, nullptr, "consumer: missing arguments");
    return false;
  }
  return true;
}

bool NeedApi(napi_env env) {
  if (api != nullptr) return true;
  napi_throw_error(env, nullptr, "consumer: call init(require('rseq-slice').native) first");
  return false;
}

// init(native) and initFromC(native): take the table with the header's helper (from C++ or from
// C); a wrong value throws the helper's message.
napi_value InitWith(napi_env env, napi_callback_info info, bool fromC) {
  napi_value argv[1];
  if (!GetArgs(env, info, 1, argv)) return nullptr;
  const rseq_slice_api* got = nullptr;
  const char* error =
      fromC ? consumer_take_api_from_c(env, argv[0], &got) : rseq_slice_api_from_napi(env, argv[0], &got);
  if (error != nullptr) {
    napi_throw_error(env, "ERR_RSEQ_SLICE_API", error);
    return nullptr;
  }
  api = got;
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}
napi_value Init(napi_env env, napi_callback_info info) { return InitWith(env, info, false); }
napi_value InitFromC(napi_env env, napi_callback_info info) { return InitWith(env, info, true); }

// fakeTable(abiVersion, size, tagged): an external that looks like the table but for these
// fields (tagged with rseq-slice's tag, or not), to check init's refusals. Each is leaked on purpose.
napi_value FakeTable(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!GetArgs(env, info, 3, argv)) return nullptr;
  uint32_t version = 0, size = 0;
  bool tagged = false;
  CHECK(napi_get_value_uint32(env, argv[0], &version));
  CHECK(napi_get_value_uint32(env, argv[1], &size));
  CHECK(napi_get_value_bool(env, argv[2], &tagged));
  auto* table = new rseq_slice_api();
  std::memset(table, 0, sizeof(*table));
  table->abi_version = version;
  table->size = size;
  napi_value external;
  CHECK(napi_create_external(env, table, nullptr, nullptr, &external));
  static const napi_type_tag tag = {RSEQ_SLICE_API_TAG_LOWER, RSEQ_SLICE_API_TAG_UPPER};
  if (tagged) CHECK(napi_type_tag_object(env, external, &tag));
  return external;
}

// runJs(n): n sections on this (the JavaScript) thread.
napi_value RunJs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  uint32_t n = 0;
  if (!GetArgs(env, info, 1, argv) || !NeedApi(env)) return nullptr;
  CHECK(napi_get_value_uint32(env, argv[0], &n));
  return CountsObject(env, RunSections(n));
}

// runPool(n, callback): n sections on a libuv pool thread; callback(counts) on this thread.
struct PoolWork {
  uint32_t n = 0;
  Counts counts;
  napi_ref callback = nullptr;
  napi_async_work work = nullptr;
};

void PoolExecute(napi_env, void* data) {
  auto* w = static_cast<PoolWork*>(data);
  w->counts = RunSections(w->n);
}

void PoolComplete(napi_env env, napi_status, void* data) {
  std::unique_ptr<PoolWork> w(static_cast<PoolWork*>(data));
  napi_value callback, global, arg = CountsObject(env, w->counts);
  if (napi_get_reference_value(env, w->callback, &callback) == napi_ok && napi_get_global(env, &global) == napi_ok)
    napi_call_function(env, global, callback, 1, &arg, nullptr);
  napi_delete_reference(env, w->callback);
  napi_delete_async_work(env, w->work);
}

napi_value RunPool(napi_env env, napi_callback_info info) {
  napi_value argv[2], name;
  if (!GetArgs(env, info, 2, argv) || !NeedApi(env)) return nullptr;
  auto w = std::make_unique<PoolWork>();
  CHECK(napi_get_value_uint32(env, argv[0], &w->n));
  CHECK(napi_create_reference(env, argv[1], 1, &w->callback));
  CHECK(napi_create_string_utf8(env, "rseq-slice consumer", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, nullptr, name, PoolExecute, PoolComplete, w.get(), &w->work));
  CHECK(napi_queue_async_work(env, w->work));
  w.release();
  return nullptr;
}

// startThreads(count, n): count std::threads, n sections each; joinThreads(): their counts.
std::vector<std::thread> threads;
std::vector<Counts> threadCounts;

napi_value StartThreads(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint32_t count = 0, n = 0;
  if (!GetArgs(env, info, 2, argv) || !NeedApi(env)) return nullptr;
  CHECK(napi_get_value_uint32(env, argv[0], &count));
  CHECK(napi_get_value_uint32(env, argv[1], &n));
  if (!threads.empty()) {
    napi_throw_error(env, nullptr, "consumer: joinThreads() first");
    return nullptr;
  }
  threadCounts.assign(count, Counts());
  for (uint32_t i = 0; i < count; i++) threads.emplace_back([i, n] { threadCounts[i] = RunSections(n); });
  return nullptr;
}

napi_value JoinThreads(napi_env env, napi_callback_info) {
  for (std::thread& t : threads) t.join();
  threads.clear();
  napi_value array;
  CHECK(napi_create_array_with_length(env, threadCounts.size(), &array));
  for (size_t i = 0; i < threadCounts.size(); i++)
    CHECK(napi_set_element(env, array, static_cast<uint32_t>(i), CountsObject(env, threadCounts[i])));
  return array;
}

// threadExit(): a std::thread whose own thread_local destructor runs after rseq-slice's (it is
// constructed first, and destructors run in reverse), as another library's cleanup may: what that
// destructor still saw of the thread's section state, and the outcome of a section it opened.
struct ExitView {
  bool areaDuring = false;        // thread()->area while the thread ran (an enabled area)
  bool threadAreaDuring = false;  // thread_area() then (libc's or rseq-slice's own)
  bool areaAtExit = false;        // thread()->area in the late destructor
  bool threadAreaAtExit = false;  // thread_area() there
  long sectionAtExit = -1;        // rseq_slice_begin/end there
};
ExitView exitView;

struct LateDestructor {
  bool armed = false;
  ~LateDestructor() {
    if (!armed) return;
    rseq_slice_thread* thread = api->thread();
    exitView.areaAtExit = thread->area != nullptr;
    exitView.threadAreaAtExit = api->thread_area() != nullptr;
    rseq_slice_begin(thread);
    exitView.sectionAtExit = rseq_slice_end(thread);
  }
};
thread_local LateDestructor lateDestructor;

napi_value ThreadExit(napi_env env, napi_callback_info) {
  if (!NeedApi(env)) return nullptr;
  exitView = ExitView();
  std::thread([] {
    lateDestructor.armed = true;  // constructed (its destructor registered) before rseq-slice's
    rseq_slice_thread* thread = api->thread();
    exitView.areaDuring = thread->area != nullptr;
    exitView.threadAreaDuring = api->thread_area() != nullptr;
    rseq_slice_begin(thread);
    (void)rseq_slice_end(thread);
  }).join();
  napi_value o, b;
  CHECK(napi_create_object(env, &o));
  CHECK(napi_get_boolean(env, exitView.areaDuring, &b));
  CHECK(napi_set_named_property(env, o, "areaDuring", b));
  CHECK(napi_get_boolean(env, exitView.threadAreaDuring, &b));
  CHECK(napi_set_named_property(env, o, "threadAreaDuring", b));
  CHECK(napi_get_boolean(env, exitView.areaAtExit, &b));
  CHECK(napi_set_named_property(env, o, "areaAtExit", b));
  CHECK(napi_get_boolean(env, exitView.threadAreaAtExit, &b));
  CHECK(napi_set_named_property(env, o, "threadAreaAtExit", b));
  CHECK(napi_set_named_property(env, o, "sectionAtExit", Num(env, static_cast<double>(exitView.sectionAtExit))));
  return o;
}

napi_value Counter(napi_env env, napi_callback_info) {
  thread_local rseq_slice_thread noSection = {nullptr, 0, 0};  // read under the lock, no section
  lock.lock(&noSection);
  double v = static_cast<double>(counter);
  lock.unlock();
  return Num(env, v);
}

// cSection(): one section through the C part: its outcome.
napi_value CSection(napi_env env, napi_callback_info) {
  if (!NeedApi(env)) return nullptr;
  return Num(env, static_cast<double>(consumer_c_section(api)));
}

// whyNot(): {error, step} of this thread, from the table.
napi_value WhyNot(napi_env env, napi_callback_info) {
  if (!NeedApi(env)) return nullptr;
  Counts c;
  c.whyNot = api->thread_error(&c.step);
  c.enabled = api->thread_section_area() != nullptr;
  c.hasArea = api->thread_area() != nullptr;
  return CountsObject(env, c);
}

// nativeSection(): one section on this thread through the table: its outcome (RSEQ_SLICE_NESTED
// inside any other section of the thread, a JavaScript one included).
napi_value NativeSection(napi_env env, napi_callback_info) {
  if (!NeedApi(env)) return nullptr;
  rseq_slice_thread* thread = api->thread();
  rseq_slice_begin(thread);
  return Num(env, static_cast<double>(rseq_slice_end(thread)));
}

// nativeAround(fn): calls fn() inside a native section; returns [the section's outcome, what fn
// returned]. A throw from fn still ends the section, then propagates.
napi_value NativeAround(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!GetArgs(env, info, 1, argv) || !NeedApi(env)) return nullptr;
  rseq_slice_thread* thread = api->thread();
  napi_value global, result, pair;
  CHECK(napi_get_global(env, &global));
  rseq_slice_begin(thread);
  napi_status called = napi_call_function(env, global, argv[0], 0, nullptr, &result);
  long outcome = rseq_slice_end(thread);
  if (called != napi_ok) return nullptr;
  CHECK(napi_create_array_with_length(env, 2, &pair));
  CHECK(napi_set_element(env, pair, 0, Num(env, static_cast<double>(outcome))));
  CHECK(napi_set_element(env, pair, 1, result));
  return pair;
}

// depth(): this thread's section depth as the table's state has it.
napi_value Depth(napi_env env, napi_callback_info) {
  if (!NeedApi(env)) return nullptr;
  return Num(env, api->thread()->depth);
}

napi_value Register(napi_env env, napi_value exports) {
  struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"init", Init},
             {"initFromC", InitFromC},
             {"fakeTable", FakeTable},
             {"runJs", RunJs},
             {"runPool", RunPool},
             {"startThreads", StartThreads},
             {"joinThreads", JoinThreads},
             {"counter", Counter},
             {"cSection", CSection},
             {"whyNot", WhyNot},
             {"nativeSection", NativeSection},
             {"nativeAround", NativeAround},
             {"depth", Depth},
             {"threadExit", ThreadExit}};
  for (const auto& f : fns) {
    napi_value fn;
    CHECK(napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn));
    CHECK(napi_set_named_property(env, exports, f.name, fn));
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Register)
