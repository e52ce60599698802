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
// computation, and graph mode computes the very same floats. Then evaluate() and predict(), and
// their hand-written twin: model.eval() and no_grad, and what the train()/eval() switch changes in
// dropout and batch norm, eagerly and in a graph (where it picks the path forward builds).
//
//   usage: 10_fit [FASHION_MNIST_DIR] [TRAINING_IMAGES]   (default: Debian's dataset, 6000 images)
//
// Read next: train/fit.h, train/steps.h (the only mode-specific code), train/callbacks.h.
#include <cstdio>
#include <cstdlib>

#include "tandem.h"

using namespace tandem;

// PyTorch's evaluation loop, the hand-written twin of keras::evaluate:
//     model.eval()
//     with torch.no_grad():
//         accuracy = (model(x_test).argmax(1) == y_test).float().mean()
// The hand loop trained the weights fit trained eagerly, so the accuracy is evaluate()'s.
void evaluate_by_hand(nn::Sequential& model, const Tensor& x_test, const Tensor& y_test, double evaluated) {
  model->eval();   // dropout off (and batch norm on its running statistics)
  no_grad guard;   // no tape: nothing here will be differentiated
  const double accuracy = mean(to(eq(argmax(model(x_test), 1), y_test), kFloat32)).item();
  model->train();  // back to training mode, as a PyTorch loop does at the start of the next epoch
  std::printf("\n  by hand, model.eval() and no_grad: test accuracy %.2f%%  (evaluate() after fit eagerly: %.2f%%)\n",
              100 * accuracy, 100 * evaluated);
}

// What model.train() / model.eval() switch: dropout (a new mask on every call, or none) and batch
// norm (the batch's statistics, updating the running ones — or the running ones, untouched). In a
// graph the switch is read when forward BUILDS the nodes: train() then model(x) is the training
// path, eval() then model(x) the evaluation path, both in one graph, sharing the Variables.
void train_and_eval_switch(nn::Sequential& model, const Tensor& images) {
  namespace g = tandem::graph;
  no_grad guard;
  std::printf("\n  model.train() / model.eval(), what the switch changes:\n");
  model->train();
  const double train_gap = (model(images) - model(images)).abs().max().item();  // two masks
  model->eval();
  const double eval_gap = (model(images) - model(images)).abs().max().item();   // no mask
  std::printf("    dropout, two forwards of the same 5 images: train() differ by %.4f, eval() by %.4f\n", train_gap,
              eval_gap);

  manual_seed(5);
  const Tensor batch = randn({16, 3}) * 2.0 + 5.0;  // three features, each of mean ~5 and deviation ~2
  nn::BatchNorm1d bn(3);                            // running_mean 0, running_var 1, momentum 0.1
  bn->train();
  const Tensor in_training = bn(batch);             // normalised by the batch's own mean and variance
  const Tensor running_mean = bn->running_mean.clone();  // moved 10% of the way to the batch's mean
  bn->eval();
  const Tensor in_evaluation = bn(batch);           // normalised by the running statistics instead
  std::printf("    batch norm, output mean per feature: train() %s, eval() %s\n",
              msg(in_training.mean({0})).c_str(), msg(in_evaluation.mean({0})).c_str());
  std::printf("    running_mean after the train() call %s, after the eval() call %s (unchanged)\n",
              msg(running_mean).c_str(), msg(bn->running_mean).c_str());

  g::Graph graph;
  g::DefaultGraph use(graph);
  const g::Output x = g::placeholder(kFloat32, {-1, 3}, "x");
  bn->train();
  const g::Output train_path = bn(x);  // batch statistics, and assigns to the running ones
  bn->eval();
  const g::Output eval_path = bn(x);   // running statistics only
  g::Session session(graph);
  session.run(g::global_variables_initializer(graph));
  const Tensor graph_eval = session.run(eval_path, {{x, batch}});
  const Tensor graph_train = session.run(train_path, {{x, batch}});
  std::printf("    in a graph, the two paths built from one definition: eval path vs eager eval() %.1e, "
              "train path vs eager train() %.1e\n",
              (graph_eval - in_evaluation).abs().max().item(), (graph_train - in_training).abs().max().item());
}

// TRAINING_IMAGES as a count, or a sentence that says what to pass.
int64_t image_count(const char* text) {
  char* end = nullptr;
  const long long n = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || n <= 0)
    throw Error(msg("10_fit: TRAINING_IMAGES must be a positive whole number, got '", text,
                    "' (usage: 10_fit [FASHION_MNIST_DIR] [TRAINING_IMAGES])"));
  return n;
}

int main(int argc, char** argv) {
  try {
    const std::string dir = argc > 1 ? argv[1] : data::kFashionMnistDir;
    if (dir.rfind("-", 0) == 0)
      throw Error(msg("10_fit takes no flags, got '", dir, "' (usage: 10_fit [FASHION_MNIST_DIR] [TRAINING_IMAGES])"));
    const data::FashionMnist train_set = data::load_fashion_mnist(true, dir), test_set = data::load_fashion_mnist(false, dir);
    const int64_t n = std::min<int64_t>(argc > 2 ? image_count(argv[2]) : 6000, train_set.images.size(0));
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
    const StateDict hand_weights = model->state_dict().clone();  // kept for the evaluation by hand (part 4)

    // ---- 2 and 3. Keras's compile and fit, in each mode --------------------------------------------------
    // model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    // model.fit(x, y, epochs=3, batch_size=64)
    std::vector<double> evaluated;  // evaluate()'s test accuracy: eager, then graph
    auto fit_in = [&](bool eagerly) {
      model->load_state_dict(initial);
      keras::Model compiled = keras::compile(model, {.optimizer = optim::AdamOptions{.lr = 1e-3},
                                                     .loss = "cross_entropy", .metrics = {"accuracy"},
                                                     .run_eagerly = eagerly});
      manual_seed(42);
      keras::History history = keras::fit(compiled, x, y, {.epochs = kEpochs, .batch_size = kBatch, .verbose = 0,
                                                           .seed = kShuffleSeed});
      const keras::Logs test = keras::evaluate(compiled, x_test, y_test, {.batch_size = 500});
      evaluated.push_back(test.at("accuracy"));
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

    // ---- 4. evaluate() by hand: model.eval() and torch.no_grad() -------------------------------------
    model->load_state_dict(hand_weights);  // the weights the hand loop trained
    evaluate_by_hand(model, x_test, y_test, evaluated[0]);
    train_and_eval_switch(model, x_test.narrow(0, 0, 5));
  } catch (const Error& e) {
    std::fprintf(stderr, "10_fit: %s\n", e.what());
    return 1;
  }
  return 0;
}
