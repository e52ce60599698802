// serve/model_server.cpp — see model_server.h. Reading order: handle() (errors → HTTP codes),
// route() (which URL is which call), then the three calls: status, metadata, predict.
#include "serve/model_server.h"

#include <cctype>

#include "core/error.h"
#include "serve/json_tensor.h"

namespace tandem::serve {

namespace {

// An error the client caused, with the HTTP code TF Serving gives it (400 InvalidArgument,
// 404 NotFound). Anything else that goes wrong is the server's fault: 500.
struct RequestError {
  int status;
  std::string message;
};

HttpResponse error_response(int status, const std::string& message) {
  return {status, json{{"error", message}}.dump()};
}

std::string node_name(const graph::Output& o) { return o.node()->name; }

// TF's names for the dtypes, as the metadata API reports them.
const char* tf_dtype(DType d) {
  switch (d) {
    case kFloat32: return "DT_FLOAT";
    case kFloat64: return "DT_DOUBLE";
    case kInt64: return "DT_INT64";
    case kBool: return "DT_BOOL";
    default: return "DT_INVALID";
  }
}

json tensor_info(const graph::Output& o) {
  json dims = json::array();
  for (int64_t size : o.shape()) dims.push_back({{"size", std::to_string(size)}, {"name", ""}});
  return {{"dtype", tf_dtype(o.dtype())},
          {"tensor_shape", {{"dim", dims}, {"unknown_rank", false}}},
          {"name", o.name()}};
}

// The parts of /v1/models/<name>[/versions/<n>][:predict | /metadata].
struct ModelUrl {
  std::string name, version, verb;  // verb: "" (status), "metadata", "predict", "classify", ...
};

std::optional<ModelUrl> parse_url(const std::string& path) {
  const std::string prefix = "/v1/models/";
  if (path.rfind(prefix, 0) != 0) return std::nullopt;
  std::string rest = path.substr(prefix.size());
  ModelUrl url;
  if (const size_t colon = rest.rfind(':'); colon != std::string::npos) {
    url.verb = rest.substr(colon + 1);
    rest.resize(colon);
  } else if (rest.size() > 9 && rest.compare(rest.size() - 9, 9, "/metadata") == 0) {
    url.verb = "metadata";
    rest.resize(rest.size() - 9);
  }
  if (const size_t v = rest.find("/versions/"); v != std::string::npos) {
    url.version = rest.substr(v + 10);
    rest.resize(v);
    if (url.version.empty() || url.version.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
  }
  if (rest.empty() || rest.find('/') != std::string::npos) return std::nullopt;
  url.name = rest;
  return url;
}

// ---- predict: JSON in, feeds, one Session::run, JSON out ----------------------------------------

// The request's tensors, one per model input, from the row format ("instances": a list with one
// entry per example; with several inputs each entry is an object naming them) or the columnar
// format ("inputs": the batch itself, or an object of batches by input name).
std::vector<Tensor> read_inputs(const json& request, const std::vector<graph::Output>& inputs, bool rows) {
  const json& body = request.at(rows ? "instances" : "inputs");
  const std::string key = rows ? "instances" : "inputs";
  std::vector<Tensor> values;
  if (inputs.size() == 1 && !(body.is_object() || (rows && body.is_array() && !body.empty() && body[0].is_object()))) {
    if (rows && (!body.is_array() || body.empty()))
      throw RequestError{400, "\"instances\" must be a non-empty list, one entry per example"};
    values.push_back(tensor_from_json(body, inputs[0].dtype(), key));
    return values;
  }
  for (const graph::Output& in : inputs) {
    const std::string name = node_name(in);
    if (!rows) {
      if (!body.is_object() || !body.contains(name))
        throw RequestError{400, msg("\"inputs\" has no value for the model's input '", name,
                                    "'; send {\"inputs\": {\"", name, "\": ...}}")};
      values.push_back(tensor_from_json(body[name], in.dtype(), "inputs." + name));
      continue;
    }
    if (!body.is_array() || body.empty())
      throw RequestError{400, "\"instances\" must be a non-empty list, one entry per example"};
    json column = json::array();
    for (size_t i = 0; i < body.size(); ++i) {
      if (!body[i].is_object() || !body[i].contains(name))
        throw RequestError{400, msg("instances[", i, "] has no value for the model's input '", name,
                                    "'; with several inputs each instance is an object naming them all")};
      column.push_back(body[i][name]);
    }
    values.push_back(tensor_from_json(column, in.dtype(), "instances[*]." + name));
  }
  return values;
}

// Row format: one entry per example. One output: its rows; several: an object per example.
json write_rows(const std::vector<Tensor>& results, const std::vector<graph::Output>& outputs) {
  if (results.size() == 1) return json_from_tensor(results[0]);
  const int64_t n = results[0].dim() > 0 ? results[0].shape()[0] : -1;
  for (size_t k = 0; k < results.size(); ++k)
    if (results[k].dim() == 0 || results[k].shape()[0] != n)
      throw RequestError{400, msg("the model's outputs disagree on the batch size (", node_name(outputs[k]), " has shape ",
                                  shape_str(results[k].shape()), "); ask for the columnar format: {\"inputs\": ...}")};
  json rows = json::array();
  for (int64_t i = 0; i < n; ++i) {
    json row = json::object();
    for (size_t k = 0; k < results.size(); ++k) row[node_name(outputs[k])] = json_from_tensor(results[k][i]);
    rows.push_back(row);
  }
  return rows;
}

json write_columns(const std::vector<Tensor>& results, const std::vector<graph::Output>& outputs) {
  if (results.size() == 1) return json_from_tensor(results[0]);
  json columns = json::object();
  for (size_t k = 0; k < results.size(); ++k) columns[node_name(outputs[k])] = json_from_tensor(results[k]);
  return columns;
}

}  // namespace

void ModelServer::add_model(const std::string& name, const std::string& path, int64_t version) {
  if (name.empty() || name.find_first_of("/:?#% ") != std::string::npos)
    throw Error(msg("ModelServer: the model name '", name, "' cannot be part of a URL; use letters, digits, '-' and '_'"));
  if (models_.count(name)) throw Error(msg("ModelServer: a model named '", name, "' is served already"));
  auto m = std::make_unique<Model>();
  m->name = name;
  m->path = path;
  m->version = version;
  m->frozen = io::load_graph(path);
  if (m->frozen.inputs.empty() || m->frozen.outputs.empty())
    throw Error(msg("ModelServer: '", path, "' has no placeholder or no output; freeze the model with its outputs"));
  m->session = std::make_unique<graph::Session>(*m->frozen.graph);
  models_[name] = std::move(m);
}

HttpResponse ModelServer::handle(const std::string& method, const std::string& path, const std::string& body) const {
  try {
    return route(method, path, body);
  } catch (const RequestError& e) {
    return error_response(e.status, e.message);
  } catch (const OutOfMemoryError& e) {
    return error_response(500, e.what());
  } catch (const Error& e) {  // the model refused the values (a shape, a dtype): the request's fault
    return error_response(400, e.what());
  } catch (const std::exception& e) {
    return error_response(500, msg("internal error: ", e.what()));
  }
}

HttpResponse ModelServer::route(const std::string& method, const std::string& path, const std::string& body) const {
  const std::optional<ModelUrl> url = parse_url(path);
  const bool get = method == "GET", post = method == "POST";
  if (!url || (url->verb.empty() && !get) || (url->verb == "metadata" && !get) ||
      (url->verb != "" && url->verb != "metadata" && !post))
    throw RequestError{400, msg("Malformed request: ", method, " ", path)};
  const auto found = models_.find(url->name);
  const bool version_ok = found != models_.end() && (url->version.empty() || url->version == std::to_string(found->second->version));
  if (!version_ok) {
    const std::string request = url->version.empty() ? msg("Latest(", url->name, ")")
                                                     : msg("Specific(", url->name, ", ", url->version, ")");
    throw RequestError{404, "Servable not found for request: " + request};
  }
  const Model& m = *found->second;
  if (url->verb.empty()) return status(m);
  if (url->verb == "metadata") return metadata(m);
  if (url->verb == "predict") return predict(m, body);
  throw RequestError{400, msg("this server answers :predict only, not :", url->verb,
                              " (classify and regress need tf.Example inputs, which a frozen graph does not have)")};
}

HttpResponse ModelServer::status(const Model& m) {
  const json version = {{"version", std::to_string(m.version)},
                        {"state", "AVAILABLE"},
                        {"status", {{"error_code", "OK"}, {"error_message", ""}}}};
  return {200, json{{"model_version_status", json::array({version})}}.dump()};
}

HttpResponse ModelServer::metadata(const Model& m) {
  json inputs = json::object(), outputs = json::object();
  for (const graph::Output& in : m.frozen.inputs) inputs[node_name(in)] = tensor_info(in);
  for (const graph::Output& out : m.frozen.outputs) outputs[node_name(out)] = tensor_info(out);
  const json signature = {{"inputs", inputs}, {"outputs", outputs}, {"method_name", "tensorflow/serving/predict"}};
  const json body = {
      {"model_spec", {{"name", m.name}, {"signature_name", ""}, {"version", std::to_string(m.version)}}},
      {"metadata", {{"signature_def", {{"signature_def", {{"serving_default", signature}}}}}}}};
  return {200, body.dump()};
}

HttpResponse ModelServer::predict(const Model& m, const std::string& body) {
  // 1. The request: a JSON object with "instances" or "inputs" (and perhaps a signature name).
  json request;
  try {
    request = json::parse(body);
  } catch (const json::parse_error& e) {
    throw RequestError{400, msg("JSON Parse error: ", e.what())};
  }
  if (!request.is_object()) throw RequestError{400, "the request must be a JSON object: {\"instances\": [...]}"};
  if (request.contains("signature_name") &&
      (!request["signature_name"].is_string() || request["signature_name"] != "serving_default"))
    throw RequestError{400, msg("Serving signature name: ", request["signature_name"].dump(),
                                " not found in signature def (a frozen graph has one: \"serving_default\")")};
  const bool rows = request.contains("instances"), columns = request.contains("inputs");
  if (rows == columns)
    throw RequestError{400, rows ? "send either 'instances' (row format) or 'inputs' (columnar format), not both"
                                 : "Missing 'inputs' or 'instances' key"};

  // 2. Feeds in, one run, fetches out. Session::run checks the dtypes and shapes (TF's messages).
  const std::vector<Tensor> values = read_inputs(request, m.frozen.inputs, rows);
  graph::FeedDict feeds;
  for (size_t k = 0; k < values.size(); ++k) feeds.push_back({m.frozen.inputs[k], values[k]});
  const std::vector<Tensor> results = m.session->run(m.frozen.outputs, feeds);

  // 3. The answer, in the format it was asked in.
  const json answer = rows ? json{{"predictions", write_rows(results, m.frozen.outputs)}}
                           : json{{"outputs", write_columns(results, m.frozen.outputs)}};
  return {200, answer.dump()};
}

}  // namespace tandem::serve
