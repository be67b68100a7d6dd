// An object of named N-API functions: how the addon groups its entry points (`bench`,
// `diagnostics`, `probes`), written once.
#ifndef RSEQ_SLICE_FUNCTION_TABLE_H
#define RSEQ_SLICE_FUNCTION_TABLE_H

#include <napi.h>

#include <initializer_list>

namespace rseq_slice {

struct NamedFunction {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

// A new object with each function set under its name (the function's own name too).
inline Napi::Object FunctionTable(Napi::Env env, std::initializer_list<NamedFunction> functions) {
  Napi::Object table = Napi::Object::New(env);
  for (const NamedFunction& f : functions) table.Set(f.name, Napi::Function::New(env, f.fn, f.name));
  return table;
}

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_FUNCTION_TABLE_H
