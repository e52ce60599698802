// examples/10_fit.cpp — Keras's fit() beside PyTorch's hand-written loop, and fit in both modes.
//
// The seed articles train the same network two ways: Keras's model.compile(...); model.fit(...)
// and PyTorch's loop of zero_grad / forward / loss / backward / step. Here one MLP on
// Fashion-MNIST is trained three times from the same weights, the same shuffled batches and the
// same dropout masks:
//   1. by hand, PyTorch's loop over a DataLoader;
//   2. with keras::fit, compiled with run_eagerly = true (each batch runs that same loop);
//   3. with keras::fit, compiled for graph mode (the default): fit builds the graph once and
//      then only runs the session.
// The three columns of epoch losses agree — the hand loop and fit's eager mode are the same
// computation, and graph mode computes the very same floats. Then evaluate() and predict().
//
//   usage: 10_fit [FASHION_MNIST_DIR] [TRAINING_IMAGES]   (default: Debian's dataset, 6000 images)
//
// Read next: train/fit.h, train/steps.h (the only mode-specific code), train/callbacks.h.
#include <cstdio>
#include <cstdlib>

#include "tandem.h"

using namespace tandem;

int main(int argc, char** argv) {
  try {
    const std::string dir = argc > 1 ? argv[1] : data::kFashionMnistDir;
    const data::FashionMnist train_set = data::load_fashion_mnist(true, dir), test_set = data::load_fashion_mnist(false, dir);
    const int64_t n = std::min<int64_t>(argc > 2 ? std::atoll(argv[2]) : 6000, train_set.images.size(0));
    const Tensor x = train_set.images.narrow(0, 0, n).reshape({-1, 784}).contiguous(), y = train_set.labels.narrow(0, 0, n);
    const Tensor x_test = test_set.images.reshape({-1, 784}), y_test = test_set.labels;
    constexpr int64_t kEpochs = 3, kBatch = 64;
    constexpr uint64_t kShuffleSeed = 1;

    manual_seed(0);
    nn::Sequential model(nn::Linear(784, 128), nn::ReLU(), nn::Dropout(0.2), nn::Linear(128, 10));
    const StateDict initial = model->state_dict().clone();

    // ---- 1. PyTorch's loop, by hand -----------------------------------------------------------------
    // loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    data::DataLoader loader(data::share(data::TensorDataset({x, y})), {.batch_size = kBatch, .shuffle = true, .seed = kShuffleSeed});
    optim::Adam optimizer(model->parameters(), {.lr = 1e-3});  // optimizer = optim.Adam(model.parameters(), lr=1e-3)
    std::vector<double> by_hand;
    manual_seed(42);  // the dropout masks
    for (int64_t epoch = 0; epoch < kEpochs; ++epoch) {
      model->train();                                      // model.train()
      double total = 0;
      for (const data::Example& batch : loader) {          // for images, labels in loader:
        optimizer.zero_grad();                             //     optimizer.zero_grad()
        Tensor loss = nn::functional::cross_entropy(model(batch[0]), batch[1]);  // loss = criterion(model(images), labels)
        loss.backward();                                   //     loss.backward()
        optimizer.step();                                  //     optimizer.step()
        total += loss.item() * static_cast<double>(batch[0].size(0));
      }
      by_hand.push_back(total / static_cast<double>(n));  // the epoch's mean loss per example
    }

    // ---- 2 and 3. Keras's compile and fit, in each mode --------------------------------------------------
    // model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    // model.fit(x, y, epochs=3, batch_size=64)
    auto fit_in = [&](bool eagerly) {
      model->load_state_dict(initial);
      keras::Model compiled = keras::compile(model, {.optimizer = optim::AdamOptions{.lr = 1e-3},
                                                     .loss = "cross_entropy", .metrics = {"accuracy"},
                                                     .run_eagerly = eagerly});
      manual_seed(42);
      keras::History history = keras::fit(compiled, x, y, {.epochs = kEpochs, .batch_size = kBatch, .verbose = 0,
                                                           .seed = kShuffleSeed});
      const keras::Logs test = keras::evaluate(compiled, x_test, y_test, {.batch_size = 500});
      std::printf("  %-5s mode: test loss %.4f, test accuracy %.2f%%\n", eagerly ? "eager" : "graph", test.at("loss"),
                  100 * test.at("accuracy"));
      return std::pair{history, compiled.options().run_eagerly ? keras::predict(compiled, x_test.narrow(0, 0, 5)) : Tensor()};
    };
    std::printf("An MLP 784-128-10 with dropout, %lld Fashion-MNIST images, Adam, batches of %lld:\n",
                static_cast<long long>(n), static_cast<long long>(kBatch));
    const auto [eager, first_five] = fit_in(true);
    const auto [graph, unused] = fit_in(false);

    std::printf("\n  epoch   hand loop   fit (eager)   fit (graph)   train accuracy\n");
    for (int64_t e = 0; e < kEpochs; ++e)
      std::printf("  %5lld   %9.6f   %11.6f   %11.6f   %13.2f%%\n", static_cast<long long>(e + 1), by_hand[e],
                  eager["loss"][e], graph["loss"][e], 100 * graph["accuracy"][e]);

    // model.predict(x_test[:5]).argmax(1)
    std::printf("\n  predict(x_test[:5]).argmax(1) = %s, labels %s\n", msg(argmax(first_five, 1)).c_str(),
                msg(y_test.narrow(0, 0, 5)).c_str());
  } catch (const Error& e) {
    std::fprintf(stderr, "10_fit: %s\n", e.what());
    return 1;
  }
  return 0;
}
