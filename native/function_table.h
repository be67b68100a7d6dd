// Named N-API functions set on an object: how the addon exports every entry point, the top-level
// ones on `exports` and the grouped ones (`bench`, `diagnostics`, `probes`) on their own objects.
#ifndef RSEQ_SLICE_FUNCTION_TABLE_H
#define RSEQ_SLICE_FUNCTION_TABLE_H

#include <napi.h>

#include <initializer_list>

namespace rseq_slice {

struct NamedFunction {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

// Sets each function on `target` under its name (the function's own name too); returns `target`.
inline Napi::Object SetFunctions(Napi::Env env, Napi::Object target, std::initializer_list<NamedFunction> functions) {
  for (const NamedFunction& f : functions) target.Set(f.name, Napi::Function::New(env, f.fn, f.name));
  return target;
}

// A new object holding the functions: a group of entry points.
inline Napi::Object FunctionTable(Napi::Env env, std::initializer_list<NamedFunction> functions) {
  return SetFunctions(env, Napi::Object::New(env), functions);
}

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_FUNCTION_TABLE_H
