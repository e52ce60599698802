// examples/15_image_classification.cpp — classify picture files with a small ResNet, both ways.
//
// Seed-004's "Image Classification" slide loads ResNet-50 with ImageNet weights in each framework,
// preprocesses one JPEG (Resize(256), CenterCrop(224), ToTensor, Normalize) and prints the
// predicted class. Tandem downloads nothing — no weights, no data — so this demo does what the
// slide's weights stand for: it trains the network first. The network is the small ResNet of
// tests/seed_models.h (BasicBlocks with batch norm and skip connections, global average pooling),
// trained on Fashion-MNIST (10 classes of 28x28 grey clothes) for a minute or two; then picture
// files go through the same preprocessing chain as the slide's (data/transforms.h) and each gets
// its top-3 classes with probabilities, computed twice:
//   - eager, as PyTorch: `model(x)` computes at once (torch_model(torch_img));
//   - as a TensorFlow 1 graph: the same model called on a placeholder adds nodes, its trained
//     weights become Variables, and a Session runs the graph (tf_model.predict(tf_img)).
// The demo writes a few test-set images into its output folder as PNG and JPEG files (and one as
// a larger colour picture, to show Resize and the grey conversion at work) and classifies them,
// with any files you name on the command line.
//
//   usage: 15_image_classification [--data DIR] [--train N] [--epochs N] [--test N] [--full]
//                                  [--out DIR] [IMAGE_FILE ...]
//     --data    the Fashion-MNIST folder (Debian's dataset-fashion-mnist by default)
//     --train   training images (10000); --epochs (2); --test: test images scored (2000)
//     --full    the whole training file (60000 images), 3 epochs, the whole test file
//     --out     where the sample pictures are written (image_classification_samples)
//
// Read next: tests/seed_models.h (the ResNet), data/image.h and data/transforms.h (files to
// tensors), layers/module.h (one model object, two executors).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include "tandem.h"
#include "tests/seed_models.h"

using namespace tandem;
namespace g = tandem::graph;
namespace F = tandem::nn::functional;

namespace {

struct Options {
  std::string data_dir = data::kFashionMnistDir;
  int64_t train = 10000, epochs = 2, test = 2000;
  std::string out = "image_classification_samples";
  std::vector<std::string> files;  // the user's own pictures
};

const char* const kUsage =
    "usage: 15_image_classification [--data DIR] [--train N] [--epochs N] [--test N] [--full] [--out DIR] "
    "[IMAGE_FILE ...]";

// A flag's number, checked: "--train abc" or "--epochs 0" is a mistake worth a sentence.
int64_t positive_number(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 1)
    throw Error(msg(flag, " takes a positive whole number, got '", text, "'\n", kUsage));
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw Error(msg(arg, " needs a value\n", kUsage));
      return argv[++i];
    };
    if (arg == "--data") o.data_dir = value();
    else if (arg == "--train") o.train = positive_number(arg, value());
    else if (arg == "--epochs") o.epochs = positive_number(arg, value());
    else if (arg == "--test") o.test = positive_number(arg, value());
    else if (arg == "--full") o.train = 60000, o.epochs = 3, o.test = 10000;
    else if (arg == "--out") o.out = value();
    else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage << '\n';  // asked for: not an error
      std::exit(0);
    } else if (arg.starts_with("--")) throw Error(msg("unknown flag ", arg, "\n", kUsage));
    else o.files.push_back(arg);
  }
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- training: PyTorch's loop --------------------------------------------------------------------

void train(seeds::ResNet& model, const Tensor& x, const Tensor& y, int64_t epochs) {
  // loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, drop_last=True): a last
  // batch of one image would give batch norm a variance of zero.
  data::DataLoader loader(data::share(data::TensorDataset({x, y})),
                          {.batch_size = 64, .shuffle = true, .drop_last = true, .seed = 1});
  optim::Adam optimizer(model->parameters(), {.lr = 2e-3});
  model->train();
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    double total = 0;
    int64_t steps = 0;
    for (const data::Example& batch : loader) {
      optimizer.zero_grad();
      Tensor loss = F::cross_entropy(model(batch[0]), batch[1]);
      loss.backward();
      optimizer.step();
      total += loss.item();
      ++steps;
    }
    std::printf("  epoch %lld: mean loss %.4f over %lld steps, %.0f ms per step\n", static_cast<long long>(epoch),
                total / static_cast<double>(std::max<int64_t>(steps, 1)), static_cast<long long>(steps),
                1e3 * seconds_since(t0) / static_cast<double>(std::max<int64_t>(steps, 1)));
    std::fflush(stdout);  // shown now, even when the output goes to a pipe (| tee log)
  }
  model->eval();  // batch norm now uses the running statistics it gathered
}

// ---- sample pictures -----------------------------------------------------------------------------

std::string file_name_of(const char* class_name) {
  std::string s;
  for (const char* p = class_name; *p; ++p) s += std::isalnum(static_cast<unsigned char>(*p)) ? static_cast<char>(std::tolower(*p)) : '_';
  return s;
}

// A few test images as files: PNG and JPEG, and one blown up to 84x84 in colour — a picture that
// is not 28x28 grey, as a photo would not be. Returns the paths, with the true class of each.
std::vector<std::pair<std::string, std::string>> write_samples(const data::FashionMnist& test, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::vector<std::pair<std::string, std::string>> written;
  const int64_t count = std::min<int64_t>(5, test.images.size(0));
  for (int64_t i = 0; i < count; ++i) {
    const Tensor image = test.images.narrow(0, i, 1);  // [1, 28, 28] floats in [0, 1]
    const char* name = data::kFashionMnistClasses[static_cast<size_t>(test.labels[i].item<int64_t>())];
    const std::string stem = dir + "/test" + std::to_string(i) + "_" + file_name_of(name);
    std::string path;
    if (i == 4) {  // larger and in colour: grey * a warm tint, on three channels
      const Tensor big = data::transforms::resize(image, 84, 84);
      const Tensor rgb = cat({big, big * 0.85, big * 0.6}, 0);
      data::write_jpeg(rgb, path = stem + "_84x84_rgb.jpg", 90);
    } else if (i % 2 == 0) {
      data::write_png(image, path = stem + ".png");
    } else {
      data::write_jpeg(image, path = stem + ".jpg", 90);
    }
    written.emplace_back(path, name);
  }
  return written;
}

// ---- a file to a tensor: the slide's preprocessing -------------------------------------------------

// preprocess = transforms.Compose([Resize(28), CenterCrop(28), ToTensor()]) after reading the file
// as grey (Image.open(path).convert("L")). The network was trained on 28x28 grey pictures in
// [0, 1]; any other picture is brought to that. No Normalize: the training images were not
// normalised either.
Tensor preprocess(const std::string& path) {
  // stb converts colour to grey with PIL's weights, L ≈ 0.299 R + 0.587 G + 0.114 B (ITU-R 601; stb
  // computes (77 R + 150 G + 29 B) / 256 in integers), and drops an alpha channel.
  const Tensor image = data::read_image(path, data::ImageMode::gray);  // [1, H, W] bytes 0-255
  const data::transforms::Compose chain({data::transforms::Resize(28), data::transforms::CenterCrop(28), data::transforms::ToTensor()});
  return chain(image);  // [1, 28, 28] float32
}

// The k most probable classes of one row of probabilities, most probable first (torch.topk).
std::vector<int64_t> top_k(const std::vector<float>& p, int64_t k) {
  std::vector<int64_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int64_t a, int64_t b) { return p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)]; });
  order.resize(static_cast<size_t>(k));
  return order;
}

double accuracy(const Tensor& predicted, const Tensor& labels) {
  return mean(to(eq(predicted, labels), kFloat32)).item();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    const data::FashionMnist train_set = data::load_fashion_mnist(true, o.data_dir);
    const data::FashionMnist test_set = data::load_fashion_mnist(false, o.data_dir);
    const int64_t n = std::min(o.train, train_set.images.size(0)), n_test = std::min(o.test, test_set.images.size(0));
    const Tensor x = train_set.images.narrow(0, 0, n).reshape({-1, 1, 28, 28}).contiguous();
    const Tensor y = train_set.labels.narrow(0, 0, n).contiguous();

    manual_seed(0);
    seeds::ResNet model;  // 16-32-64 channels, 10 classes
    int64_t parameters = 0;
    for (const Tensor& p : model->parameters()) parameters += p.numel();
    std::printf("No downloaded weights. Seed-004's slide loads ResNet-50 trained on ImageNet (25.6 M parameters,\n"
                "1000 classes of 224x224 colour photos); Tandem downloads nothing, so this demo trains a small\n"
                "ResNet (%lld parameters, 3 BasicBlocks) here, on %lld Fashion-MNIST images: 10 classes of 28x28\n"
                "grey clothes. It knows clothes, not cats.\n\n",
                static_cast<long long>(parameters), static_cast<long long>(n));

    // ---- 1. train (eagerly: examples/06_convnet trains one model both ways to the same losses) ----
    std::printf("1. Training, PyTorch's loop (Adam, batches of 64, %lld epoch%s):\n", static_cast<long long>(o.epochs),
                o.epochs == 1 ? "" : "s");
    train(model, x, y, o.epochs);

    // ---- 2. the same weights in a graph ------------------------------------------------------------
    // The model is in eval mode, so calling it on a placeholder builds the inference path; its
    // weights and batch norm's running statistics become Variables initialised from the trained
    // tensors (layers/module.h, bind), and the session's initializer copies them in.
    g::Graph graph;
    g::DefaultGraph use(graph);
    const g::Output images = g::placeholder(kFloat32, {-1, 1, 28, 28}, "images");
    const g::Output probabilities = F::softmax(model(images), 1);  // the graph's predict
    g::Session session(graph);
    session.run(g::global_variables_initializer(graph));
    std::printf("\n2. The trained weights in a graph: %lld nodes, fetch %s\n", static_cast<long long>(graph.nodes().size()),
                probabilities.name().c_str());

    // ---- 3. test accuracy, both ways ----------------------------------------------------------------
    const Tensor test_x = test_set.images.narrow(0, 0, n_test).reshape({-1, 1, 28, 28}).contiguous();
    const Tensor test_y = test_set.labels.narrow(0, 0, n_test);
    std::vector<Tensor> eager_parts, graph_parts;
    for (int64_t at = 0; at < n_test; at += 500) {  // 500 at a time: activations stay small
      const Tensor xb = test_x.narrow(0, at, std::min<int64_t>(500, n_test - at));
      no_grad guard;
      eager_parts.push_back(argmax(model(xb), 1));
      graph_parts.push_back(argmax(session.run(probabilities, {{images, xb}}), 1));
    }
    const Tensor eager_pred = cat(eager_parts), graph_pred = cat(graph_parts);
    std::printf("\n3. Test accuracy on %lld test images: eager %.2f%%, graph %.2f%%, same predictions: %s\n",
                static_cast<long long>(n_test), 100 * accuracy(eager_pred, test_y), 100 * accuracy(graph_pred, test_y),
                equal(eager_pred, graph_pred) ? "yes" : "no");

    // ---- 4. picture files ----------------------------------------------------------------------------
    std::vector<std::pair<std::string, std::string>> files = write_samples(test_set, o.out);
    std::printf("\n4. Picture files (the samples were written to %s/; name your own after the flags):\n", o.out.c_str());
    for (const std::string& f : o.files) files.emplace_back(f, "");
    bool all_read = true;
    for (const auto& [path, truth] : files) {
      Tensor original, input;
      try {
        original = data::read_image(path);          // img = Image.open(path): [C, H, W], as stored
        input = preprocess(path).unsqueeze(0);      // torch_img = preprocess(img).unsqueeze(0): [1, 1, 28, 28]
      } catch (const Error& e) {
        std::printf("\n  %s\n    cannot classify it: %s\n", path.c_str(), e.what());
        all_read = false;
        continue;
      }
      Tensor eager_p;
      {
        no_grad guard;
        eager_p = F::softmax(model(input), 1);                        // torch_model(torch_img)
      }
      const Tensor graph_p = session.run(probabilities, {{images, input}});  // tf_model.predict(tf_img)
      const std::vector<float> pe = eager_p.to_vector<float>(), pg = graph_p.to_vector<float>();
      std::printf("\n  %s  (%lldx%lld, %lld channel%s%s%s)\n", path.c_str(), static_cast<long long>(original.size(2)),
                  static_cast<long long>(original.size(1)), static_cast<long long>(original.size(0)),
                  original.size(0) == 1 ? "" : "s", truth.empty() ? "" : "; truly ", truth.c_str());
      std::printf("    rank  class          eager p   graph p\n");
      const std::vector<int64_t> top = top_k(pe, 3), graph_top = top_k(pg, 3);
      for (size_t r = 0; r < top.size(); ++r)
        std::printf("    %zu     %-12s   %7.4f   %7.4f\n", r + 1, data::kFashionMnistClasses[static_cast<size_t>(top[r])],
                    pe[static_cast<size_t>(top[r])], pg[static_cast<size_t>(top[r])]);
      float largest = 0;
      for (size_t c = 0; c < pe.size(); ++c) largest = std::max(largest, std::abs(pe[c] - pg[c]));
      std::printf("    same top-3 in both modes: %s; largest difference in p: %.1e\n", top == graph_top ? "yes" : "no",
                  static_cast<double>(largest));
    }

    std::printf("\nWhat differed from the seed's slide:\n"
                "  - the weights: trained here for %lld epoch%s on %lld images, not downloaded (ImageNet's 1000 classes);\n"
                "  - the preprocessing: Resize(28), CenterCrop(28), grey, ToTensor — the slide's Resize(256),\n"
                "    CenterCrop(224) and ImageNet's Normalize belong to its network, these to this one;\n"
                "  - the two modes: one model object, the same weights; eager computes each call at once, the graph\n"
                "    was built once and each Session::run only feeds a picture — their probabilities agree.\n",
                static_cast<long long>(o.epochs), o.epochs == 1 ? "" : "s", static_cast<long long>(n));
    return all_read ? 0 : 1;
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
