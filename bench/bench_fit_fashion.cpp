// bench/bench_fit_fashion.cpp — Fashion-MNIST with keras::fit, both modes, the same seed.
//
// The accuracy figures: an MLP 784-256-128-10 and the seed article's ConvNet
// (tests/seed_models.h), each trained with fit for up to 10 epochs — Adam (lr 1e-3, annealed to 0
// over the epochs by a cosine: LearningRateScheduler(CosineAnnealingLR)), batches of 64,
// shuffled, inputs normalised with Fashion-MNIST's mean and std — once eagerly and once as a
// graph, from the same weights and seed. The test set is the validation data, so val_accuracy is
// the test accuracy after each epoch. Prints both modes' curves side by side, whether they are
// identical, and the time each mode took. bench/bench_fit_fashion.py is PyTorch's twin (the same
// recipe), for the accuracy beside it.
//
//   usage: bench_fit_fashion [mlp|convnet] [EPOCHS (10)]     (threads: OMP_NUM_THREADS)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tandem.h"
#include "tests/seed_models.h"

using namespace tandem;

namespace {

nn::Sequential mlp() {
  return nn::Sequential(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                        nn::Linear(128, 10));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string which = argc > 1 ? argv[1] : "mlp";
    const int64_t epochs = argc > 2 ? std::atoll(argv[2]) : 10;
    if (which != "mlp" && which != "convnet") throw Error("usage: bench_fit_fashion [mlp|convnet] [EPOCHS]");
    const data::FashionMnist train_set = data::load_fashion_mnist(true), test_set = data::load_fashion_mnist(false);
    auto normalise = [](const Tensor& images) { return ((images - 0.2860) / 0.3530).reshape({-1, 1, 28, 28}).contiguous(); };
    const Tensor x = normalise(train_set.images), x_test = normalise(test_set.images);

    manual_seed(0);
    std::shared_ptr<nn::Module> model = which == "mlp" ? std::shared_ptr<nn::Module>(mlp()) : seeds::Net().ptr();
    const StateDict initial = model->state_dict().clone();
    // The ConvNet ends in log_softmax (the article's), so its loss is nll_loss.
    const keras::Loss loss = which == "mlp" ? keras::Loss("cross_entropy") : keras::Loss("nll_loss");

    std::printf("%s on Fashion-MNIST with keras::fit: Adam 1e-3 (cosine to 0), batch 64, %lld epochs, the test set as validation\n",
                which.c_str(), static_cast<long long>(epochs));
    keras::History histories[2];
    double seconds[2];
    for (int mode = 0; mode < 2; ++mode) {
      const bool eagerly = mode == 0;
      model->load_state_dict(initial);
      keras::Model compiled = keras::compile(model, {.optimizer = optim::AdamOptions{.lr = 1e-3}, .loss = loss,
                                                     .metrics = {"accuracy"}, .run_eagerly = eagerly});
      manual_seed(1);
      const auto t0 = std::chrono::steady_clock::now();
      histories[mode] = keras::fit(compiled, x, train_set.labels,
                                   {.epochs = epochs, .batch_size = 64, .validation_data = {x_test, test_set.labels},
                                    .callbacks = {keras::LearningRateScheduler(optim::CosineAnnealingLR({.T_max = epochs}))},
                                    .verbose = 2, .seed = 7});
      seconds[mode] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    std::printf("\nepoch   eager loss   graph loss   eager test acc   graph test acc\n");
    for (int64_t e = 0; e < epochs; ++e)
      std::printf("%5lld   %10.6f   %10.6f   %13.2f%%   %13.2f%%\n", static_cast<long long>(e + 1),
                  histories[0]["loss"][e], histories[1]["loss"][e], 100 * histories[0]["val_accuracy"][e],
                  100 * histories[1]["val_accuracy"][e]);
    bool identical = true;
    for (const auto& [key, values] : histories[0].history) identical = identical && histories[1][key] == values;
    std::printf("the two modes' histories are %s\n", identical ? "identical" : "DIFFERENT");
    std::printf("time: eager %.0f s, graph %.0f s (fit, including the per-epoch test evaluation)\n", seconds[0], seconds[1]);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_fit_fashion: %s\n", e.what());
    return 1;
  }
  return 0;
}
