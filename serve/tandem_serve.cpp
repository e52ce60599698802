// serve/tandem_serve.cpp — the model server's HTTP side: TensorFlow Serving's command line and REST
// API over serve/model_server.h, on cpp-httplib (Debian's libcpp-httplib-dev).
//
//     ./build/04_freeze_and_deploy /tmp/xor.tgraph                 # a trained, frozen model
//     ./build/tandem_serve --rest_api_port=8501 --model_name=xor --model_base_path=/tmp/xor.tgraph
//     curl -d '{"instances": [[0, 1], [1, 1]]}' localhost:8501/v1/models/xor:predict
//     {"predictions":[[0.93...],[0.05...]]}
//
// The flags are TF Serving's (tensorflow_model_server): --rest_api_port (0: any free port, printed),
// --model_name and --model_base_path (given again for each further model), plus --host
// (127.0.0.1 by default: a classroom laptop should not serve its network by surprise; 0.0.0.0
// serves every interface, as TF Serving does). The listener runs a pool of threads (cpp-httplib's:
// one request per thread at a time), so requests from several clients run at once; the model's
// Session lets them (model_server.h). Ctrl-C or SIGTERM stops it after the requests in flight.
//
// Read next: serve/model_server.h, docs/serving.md, tests/serving_check.py (the CI test: a real
// HTTP client against this program).
#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "serve/model_server.h"

using namespace tandem;

namespace {

struct Flags {
  std::string host = "127.0.0.1";
  int port = 8501;
  std::vector<std::pair<std::string, std::string>> models;  // name, path
};

const char* kUsage =
    "usage: tandem_serve --model_name=NAME --model_base_path=FILE.tgraph [--model_name=... ...]\n"
    "                    [--rest_api_port=8501] [--host=127.0.0.1]\n";

// --flag=value pairs; a model_name and the model_base_path after it make one model.
Flags parse_flags(int argc, char** argv) {
  Flags f;
  std::string pending_name;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string key = arg.substr(0, eq), value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (key == "--rest_api_port" && !value.empty() && value.find_first_not_of("0123456789") == std::string::npos &&
        value.size() <= 5 && std::stoi(value) <= 65535) {
      f.port = std::stoi(value);
    } else if (key == "--host" && !value.empty()) {
      f.host = value;
    } else if (key == "--model_name" && !value.empty() && pending_name.empty()) {
      pending_name = value;
    } else if (key == "--model_base_path" && !value.empty() && !pending_name.empty()) {
      f.models.emplace_back(pending_name, value);
      pending_name.clear();
    } else {
      throw Error(msg("tandem_serve: cannot use the argument '", arg, "'\n", kUsage));
    }
  }
  if (!pending_name.empty() || f.models.empty())
    throw Error(msg("tandem_serve: each --model_name needs its --model_base_path after it\n", kUsage));
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  serve::ModelServer models;
  Flags flags;
  try {
    flags = parse_flags(argc, argv);
    for (const auto& [name, path] : flags.models) {
      models.add_model(name, path);
      std::printf("loaded model '%s' from %s\n", name.c_str(), path.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }

  // Every request goes to ModelServer::handle, which routes it and never throws.
  httplib::Server http;
  const auto answer = [&models](const httplib::Request& req, httplib::Response& res) {
    const serve::HttpResponse r = models.handle(req.method, req.path, req.body);
    res.status = r.status;
    res.set_content(r.body, "application/json");
  };
  for (auto route : {&httplib::Server::Get, &httplib::Server::Post, &httplib::Server::Put,
                     &httplib::Server::Delete, &httplib::Server::Patch})
    (http.*route)(".*", answer);
  http.set_payload_max_length(64u << 20);  // a bigger body is refused with 413 before it is read
  // The response goes out as two writes (headers, then body). With Nagle's algorithm on, the second
  // small write waits for the client's ACK of the first, and the client delays that ACK for up to
  // 40 ms: every request would take 40 ms. TCP_NODELAY sends each write at once (measured:
  // bench/RESULTS.md, "Serving").
  http.set_tcp_nodelay(true);

  // Stop on SIGINT/SIGTERM: the signals are blocked in every thread and one thread waits for them,
  // then asks the listener to stop (a signal handler may not call it).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    http.stop();
  });
  stopper.detach();

  const int port = flags.port == 0 ? http.bind_to_any_port(flags.host.c_str())
                                   : (http.bind_to_port(flags.host.c_str(), flags.port) ? flags.port : -1);
  if (port < 0) {
    std::fprintf(stderr, "tandem_serve: cannot listen on %s:%d (in use? try another --rest_api_port)\n",
                 flags.host.c_str(), flags.port);
    return 1;
  }
  std::printf("Exporting HTTP/REST API at:%s:%d ...\n", flags.host.c_str(), port);
  std::fflush(stdout);
  http.listen_after_bind();
  std::printf("tandem_serve: stopped\n");
  return 0;
}
