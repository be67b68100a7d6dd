// Checked reading of JavaScript arguments at the N-API boundary. A cast of an unchecked number
// (NaN, a negative, 2**64) to an unsigned or int type is undefined behaviour in C++, so the addon's
// numeric, boolean, bigint, function and typed-array arguments are read through Args (execvp's
// string arrays are checked in exec.cc): a wrong type throws a TypeError, a value out
// of range a RangeError, each naming the function and the argument the way lib/validate.ts does
// ("prctl: op must be an integer from 0 to 4294967295; got -1"). The project builds with
// NAPI_DISABLE_CPP_EXCEPTIONS: a getter returns false with the JavaScript exception pending, and
// the caller returns at once (no C++ exception ever crosses N-API).
#ifndef RSEQ_SLICE_NAPI_ARGS_H
#define RSEQ_SLICE_NAPI_ARGS_H

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace rseq_slice {

// Number.MAX_SAFE_INTEGER: every integer up to it is exact in a double.
constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

template <typename T>
struct TypedArrayKind;
template <>
struct TypedArrayKind<int32_t> {
  static constexpr napi_typedarray_type type = napi_int32_array;
  static constexpr const char* name = "an Int32Array";
};
template <>
struct TypedArrayKind<double> {
  static constexpr napi_typedarray_type type = napi_float64_array;
  static constexpr const char* name = "a Float64Array";
};

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* function) : info_(info), function_(function) {}

  // An integer Number from min to max. max is capped at kMaxSafeInteger: above 2**53 the double
  // comparison rounds, and a cast of 2**64 to uint64_t would be undefined.
  bool Integer(size_t i, const char* name, uint64_t min, uint64_t max, uint64_t* out) const {
    if (max > kMaxSafeInteger) max = kMaxSafeInteger;
    std::string accepted = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    Napi::Value v = Arg(i);
    if (!v.IsNumber()) return Fail(false, name, accepted, v);
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::trunc(d) != d) return Fail(false, name, accepted, v);
    if (d < static_cast<double>(min) || d > static_cast<double>(max)) return Fail(true, name, accepted, v);
    *out = static_cast<uint64_t>(d);
    return true;
  }

  bool Uint32(size_t i, const char* name, uint32_t* out) const {
    uint64_t value;
    if (!Integer(i, name, 0, UINT32_MAX, &value)) return false;
    *out = static_cast<uint32_t>(value);
    return true;
  }

  bool Boolean(size_t i, const char* name, bool* out) const {
    Napi::Value v = Arg(i);
    if (!v.IsBoolean()) return Fail(false, name, "a boolean", v);
    *out = v.As<Napi::Boolean>().Value();
    return true;
  }

  bool Function(size_t i, const char* name, Napi::Function* out) const {
    Napi::Value v = Arg(i);
    if (!v.IsFunction()) return Fail(false, name, "a function", v);
    *out = v.As<Napi::Function>();
    return true;
  }

  // A BigInt from 0 to 2**64 - 1.
  bool BigUint64(size_t i, const char* name, uint64_t* out) const {
    const char* accepted = "a bigint from 0n to 18446744073709551615n";
    Napi::Value v = Arg(i);
    if (!v.IsBigInt()) return Fail(false, name, accepted, v);
    bool lossless = false;
    *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    return lossless || Fail(true, name, accepted, v);
  }

  // The data and element count of a typed array of T (SharedArrayBuffer-backed too), with at
  // least minLength elements. An empty array may have a null pointer.
  template <typename T>
  bool TypedArray(size_t i, const char* name, size_t minLength, T** data, size_t* length) const {
    std::string accepted = TypedArrayKind<T>::name;
    if (minLength > 0)
      accepted += " of at least " + std::to_string(minLength) + " element" + (minLength > 1 ? "s" : "");
    Napi::Value v = Arg(i);
    napi_typedarray_type actual;
    void* raw = nullptr;
    if (!v.IsTypedArray() ||
        napi_get_typedarray_info(info_.Env(), v, &actual, length, &raw, nullptr, nullptr) != napi_ok ||
        actual != TypedArrayKind<T>::type)
      return Fail(false, name, accepted, v);
    if (*length < minLength) return Fail(true, name, accepted, v);
    *data = static_cast<T*>(raw);
    return true;
  }

  // Throws a RangeError naming the argument, for a check across arguments; returns false.
  bool RangeError(const std::string& message) const {
    Napi::RangeError::New(info_.Env(), function_ + ": " + message).ThrowAsJavaScriptException();
    return false;
  }

 private:
  Napi::Value Arg(size_t i) const { return i < info_.Length() ? info_[i] : info_.Env().Undefined(); }

  bool Fail(bool range, const char* name, const std::string& accepted, Napi::Value v) const {
    std::string message = function_ + ": " + name + " must be " + accepted + "; got " + Describe(v);
    if (range) {
      Napi::RangeError::New(info_.Env(), message).ThrowAsJavaScriptException();
    } else {
      Napi::TypeError::New(info_.Env(), message).ThrowAsJavaScriptException();
    }
    return false;
  }

  // The value as lib/validate.ts describes it. Only primitives are converted to strings, which
  // runs no user code.
  std::string Describe(Napi::Value v) const {
    switch (v.Type()) {
      case napi_undefined: return "undefined";
      case napi_null: return "null";
      case napi_boolean: return v.As<Napi::Boolean>().Value() ? "true" : "false";
      case napi_number: return v.ToString().Utf8Value();
      case napi_bigint: return v.ToString().Utf8Value() + "n";
      case napi_string: {
        std::string s = v.As<Napi::String>().Utf8Value();
        return "\"" + (s.size() > 40 ? s.substr(0, 40) + "..." : s) + "\"";
      }
      case napi_function: return "a function";
      case napi_symbol: return "a symbol";
      default:
        if (v.IsArray()) return "an array";
        return v.IsTypedArray() ? "a typed array" : "an object";
    }
  }

  const Napi::CallbackInfo& info_;
  std::string function_;
};

}  // namespace rseq_slice

#endif  // RSEQ_SLICE_NAPI_ARGS_H
