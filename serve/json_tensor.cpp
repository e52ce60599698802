// serve/json_tensor.cpp — see json_tensor.h. Reading is two walks over the JSON: the first finds
// the shape (and checks that every list at one depth has the same length), the second collects
// the numbers in row-major order, which is the order a contiguous tensor stores them.
#include "serve/json_tensor.h"

#include <charconv>
#include <cmath>

#include "core/error.h"
#include "core/factories.h"

namespace tandem::serve {

namespace {

constexpr size_t kMaxDims = 32;  // deeper nesting is an error, not a deep recursion

const char* kind_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "a list";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::binary: return "binary data";
    default: return "a number";
  }
}

// Walk 1: the shape is the length of the first list at each depth; every other list at that depth
// must agree. `path` grows as we go down ("instances[1][0]") so an error can say where it looked.
void find_shape(const json& v, size_t depth, Shape& shape, const std::string& path) {
  if (!v.is_array()) {
    if (depth < shape.size())
      throw Error(msg(path, " is ", kind_of(v), " where a list of ", shape[depth],
                      " values was expected (a ragged list has no tensor shape)"));
    return;
  }
  if (depth == shape.size()) {
    if (depth == kMaxDims)
      throw Error(msg(path, " is nested more than ", kMaxDims, " lists deep; no model input has that many dimensions"));
    shape.push_back(static_cast<int64_t>(v.size()));
  } else if (static_cast<int64_t>(v.size()) != shape[depth]) {
    throw Error(msg(path, " has ", v.size(), " values but the lists beside it have ", shape[depth],
                    " (a ragged list has no tensor shape)"));
  }
  for (size_t i = 0; i < v.size(); ++i) find_shape(v[i], depth + 1, shape, msg(path, "[", i, "]"));
}

// Walk 2: the leaves, in row-major order, each checked against the dtype as it is stored.
void collect(const json& v, std::vector<const json*>& leaves) {
  if (!v.is_array()) return leaves.push_back(&v);
  for (const json& item : v) collect(item, leaves);
}

// Where leaf i sits, for an error message: "instances[1][0]" (its row-major index, unflattened).
std::string leaf_path(const std::string& what, const Shape& shape, int64_t i) {
  std::string index;
  for (size_t d = shape.size(); d-- > 0;) {
    index = msg("[", i % shape[d], "]") + index;
    i /= shape[d];
  }
  return what + index;
}

// A leaf already known to fit the dtype, as that dtype.
template <typename T> T number(const json& v) {
  if constexpr (std::is_same_v<T, bool>) return v.get<bool>();
  else if constexpr (std::is_integral_v<T>) return static_cast<T>(v.get<int64_t>());
  else return static_cast<T>(v.get<double>());
}

// A leaf that does not fit: say where it is and what to send instead.
template <typename T> [[noreturn]] T refuse(const json& v, DType dtype, const std::string& path) {
  if (std::is_same_v<T, bool>) throw Error(msg(path, " is ", kind_of(v), "; this input is bool: send true or false"));
  if (!v.is_number())
    throw Error(msg(path, " is ", kind_of(v), "; this input is ", to_string(dtype), ": send numbers"));
  throw Error(msg(path, " is ", v.dump(), "; this input is ", to_string(dtype), ": send whole numbers"));
}

// The fewest decimal digits that read back as the same float32, as a double: 0.1f → 0.1.
double shortest_float(float f) {
  if (!std::isfinite(f)) return static_cast<double>(f);
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, f).ptr;
  double d = 0;
  std::from_chars(buf, end, d);
  return d;
}

json leaf(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case kBool: return t.data<bool>()[i];
    case kInt64: return t.data<int64_t>()[i];
    case kFloat32: return shortest_float(t.data<float>()[i]);
    default: return t.data<double>()[i];
  }
}

json nest(const Tensor& t, size_t depth, int64_t& next) {
  if (depth == static_cast<size_t>(t.dim())) return leaf(t, next++);
  json list = json::array();
  for (int64_t i = 0; i < t.shape()[depth]; ++i) list.push_back(nest(t, depth + 1, next));
  return list;
}

}  // namespace

Tensor tensor_from_json(const json& value, DType dtype, const std::string& what) {
  Shape shape;
  find_shape(value, 0, shape, what);
  std::vector<const json*> leaves;
  collect(value, leaves);
  Tensor t = empty(shape, dtype);
  visit_dtype(dtype, [&]<typename T>() {
    T* p = t.data<T>();
    for (size_t i = 0; i < leaves.size(); ++i) {
      const json& v = *leaves[i];
      const bool fits = std::is_same_v<T, bool> ? v.is_boolean()
                        : std::is_integral_v<T> ? v.is_number_integer()
                                                : v.is_number();
      p[i] = fits ? number<T>(v) : refuse<T>(v, dtype, leaf_path(what, shape, static_cast<int64_t>(i)));
    }
  });
  return t;
}

json json_from_tensor(const Tensor& t) {
  const Tensor c = t.cpu().contiguous();
  int64_t next = 0;
  return nest(c, 0, next);
}

}  // namespace tandem::serve
