// serve/json_tensor.h — tensors to and from JSON's nested lists, as a model server reads and writes them.
//
// A REST client sends numbers, not tensors: [[0.1, 0.9], [0.7, 0.2]] is a batch of two rows. The
// server must find the shape hidden in the nesting (here [2, 2]), refuse what has no shape — a
// ragged list ([[1, 2], [3]]), a string where a number belongs — with an error that says where,
// and convert the numbers to the dtype the model's placeholder expects. The answer goes back the
// same way: a tensor of shape [2, 3] becomes a list of two lists of three numbers.
//
//     Tensor x = tensor_from_json(json::parse("[[1, 2], [3, 4]]"), kFloat32, "instances");  // [2, 2]
//     json j = json_from_tensor(x);                                                         // [[1.0, 2.0], [3.0, 4.0]]
//
// Numbers from a float32 tensor are written with the fewest digits that read back as the same
// float32 (0.1f is written 0.1, not 0.10000000149011612, which is the same float widened to double).
//
// Read next: serve/model_server.h, which uses these for TensorFlow Serving's predict API.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/tensor.h"

namespace tandem::serve {

using json = nlohmann::json;

// The tensor a JSON value describes: a number or a boolean is a scalar; a list of n values of one
// shape S is a tensor of shape [n, S...]. `what` names the value in errors ("instances[3]").
// Throws tandem::Error for a ragged list, an empty list whose shape cannot be known beyond it, a
// value of the wrong kind (a string, an object, null), or a number the dtype cannot hold (1.5 for
// an int64 input, a number for a bool input).
Tensor tensor_from_json(const json& value, DType dtype, const std::string& what);

// The nested lists of a tensor (a scalar becomes a bare number or boolean).
json json_from_tensor(const Tensor& t);

}  // namespace tandem::serve
