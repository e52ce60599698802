// serve/model_server.h — TensorFlow Serving's REST API over frozen graphs, without the sockets.
//
// Deploying a model means: load it once, then answer requests — many, from many clients at once —
// without training anything. TensorFlow Serving does it over HTTP with a small JSON API, and this
// server speaks the same API, so a client written for TF Serving (curl, `requests`) works here:
//
//     GET  /v1/models/xor                 → {"model_version_status": [{"version": "1", "state": "AVAILABLE", ...}]}
//     GET  /v1/models/xor/metadata        → the signature: input and output names, dtypes, shapes
//     POST /v1/models/xor:predict         {"instances": [[0, 1], [1, 1]]}   (row format: one entry per example)
//                                      → {"predictions": [[0.93], [0.06]]}
//     POST /v1/models/xor:predict         {"inputs": [[0, 1], [1, 1]]}      (columnar format: the batch)
//                                      → {"outputs": [[0.93], [0.06]]}
//
// Errors are {"error": "..."} with TF Serving's HTTP codes: 404 for a model it does not serve
// ("Servable not found for request: Latest(xor)"), 400 for bad JSON, a missing "instances",
// ragged lists or a batch of the wrong shape — the message says which and where.
//
// This class is the whole server minus the network: handle(method, path, body) → (status, body).
// serve/tandem_serve.cpp puts it behind an HTTP listener (cpp-httplib); tests call handle()
// directly. A model is a frozen graph (io/graph_file.h) and one graph::Session: a Session runs
// concurrent read-only runs in parallel (each with its own buffers), so requests from many
// connections share it without a lock of ours. Models are added before serving starts.
//
// Read next: serve/tandem_serve.cpp (the HTTP side), docs/serving.md, examples/04_freeze_and_deploy.cpp
// (which writes the model the serving test loads).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "graph/session.h"
#include "io/graph_file.h"

namespace tandem::serve {

struct HttpResponse {
  int status = 200;
  std::string body;  // JSON
};

class ModelServer {
 public:
  // Serves the frozen graph at `path` as model `name`, version `version` (TF Serving's numbered
  // version folders, here one version per name). A bad file is a tandem::Error now, not at the
  // first request; so is a name served twice or a name with characters a URL path cannot carry.
  void add_model(const std::string& name, const std::string& path, int64_t version = 1);

  // One request: the method ("GET", "POST"), the path ("/v1/models/xor:predict") and the body.
  // Never throws: every failure is a response with an error status. Safe to call from many threads.
  HttpResponse handle(const std::string& method, const std::string& path, const std::string& body) const;

 private:
  struct Model {
    std::string name, path;
    int64_t version;
    io::FrozenGraph frozen;
    std::unique_ptr<graph::Session> session;
  };
  std::map<std::string, std::unique_ptr<Model>> models_;

  HttpResponse route(const std::string& method, const std::string& path, const std::string& body) const;
  static HttpResponse status(const Model& m);
  static HttpResponse metadata(const Model& m);
  static HttpResponse predict(const Model& m, const std::string& body);
};

}  // namespace tandem::serve
