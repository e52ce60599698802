// tests/seed_models.h — the seed articles' models, written with layers/, line by line.
//
// Each class below is a PyTorch model of the seed articles (../shared/seeds/) translated into
// Tandem: the Python line in a comment, then the C++ line. Each forward is ONE template, so the
// same object runs eagerly (T = Tensor) and builds a graph (T = graph::Output). The tests use them
// (tests/test_layers_seeds.cpp trains them in both modes), and so does the ResNet benchmark.
//
//   NetImpl            seed-002's ConvNet for MNIST ("PyTorch vs TensorFlow for beginners")
//   PyTorchModelImpl   seed-004's Dense 10-64-32-1 network ("Model Definition: Sequential vs. Module")
//   SentimentModelImpl seed-004's Embedding -> mean -> Linear -> Sigmoid ("Natural Language Processing")
//   ResNetImpl         a small ResNet (seed-004's "Image Classification" uses ResNet-50): BasicBlocks
//                      with batch norm and residual connections, 3 stages, global average pooling
//
// tests/fixtures/layers.txt holds PyTorch's outputs and gradients for the same classes
// (scripts/fixtures/gen_layers.py defines them in Python, under the same names).
#pragma once

#include "layers/nn.h"

namespace tandem::seeds {

namespace F = nn::functional;

// class Net(nn.Module):
struct NetImpl : nn::Layer<NetImpl> {
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::Dropout2d conv2_drop{nullptr};
  nn::Linear fc1{nullptr}, fc2{nullptr};

  // def __init__(self):
  NetImpl() {
    conv1 = register_module("conv1", nn::Conv2d(1, 10, /*kernel_size=*/5));   // self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
    conv2 = register_module("conv2", nn::Conv2d(10, 20, /*kernel_size=*/5));  // self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
    conv2_drop = register_module("conv2_drop", nn::Dropout2d());             // self.conv2_drop = nn.Dropout2d()
    fc1 = register_module("fc1", nn::Linear(320, 50));                        // self.fc1 = nn.Linear(320, 50)
    fc2 = register_module("fc2", nn::Linear(50, 10));                         // self.fc2 = nn.Linear(50, 10)
  }

  // def forward(self, x):
  template <class T> T forward(T x) {
    x = F::relu(F::max_pool2d(conv1(x), {2, 2}));              // x = F.relu(F.max_pool2d(self.conv1(x), 2))
    x = F::relu(F::max_pool2d(conv2_drop(conv2(x)), {2, 2}));  // x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
    x = x.view({-1, 320});                                     // x = x.view(-1, 320)
    x = F::relu(fc1(x));                                       // x = F.relu(self.fc1(x))
    x = F::dropout(x, 0.5, is_training());                     // x = F.dropout(x, training=self.training)
    x = fc2(x);                                                // x = self.fc2(x)
    return F::log_softmax(x, 1);                               // return F.log_softmax(x, dim=1)
  }
};
TANDEM_MODULE(Net);

// class PyTorchModel(nn.Module):
struct PyTorchModelImpl : nn::Layer<PyTorchModelImpl> {
  nn::Linear layer1{nullptr}, layer2{nullptr}, layer3{nullptr};
  nn::ReLU relu{nullptr};
  nn::Sigmoid sigmoid{nullptr};

  PyTorchModelImpl() {
    layer1 = register_module("layer1", nn::Linear(10, 64));  // self.layer1 = nn.Linear(10, 64)
    layer2 = register_module("layer2", nn::Linear(64, 32));  // self.layer2 = nn.Linear(64, 32)
    layer3 = register_module("layer3", nn::Linear(32, 1));   // self.layer3 = nn.Linear(32, 1)
    relu = register_module("relu", nn::ReLU());              // self.relu = nn.ReLU()
    sigmoid = register_module("sigmoid", nn::Sigmoid());     // self.sigmoid = nn.Sigmoid()
  }

  template <class T> T forward(T x) {
    x = relu(layer1(x));     // x = self.relu(self.layer1(x))
    x = relu(layer2(x));     // x = self.relu(self.layer2(x))
    x = sigmoid(layer3(x));  // x = self.sigmoid(self.layer3(x))
    return x;                // return x
  }
};
TANDEM_MODULE(PyTorchModel);

// class PyTorchModel(nn.Module):  (the sentiment model; renamed, since the first one took the name)
struct SentimentModelImpl : nn::Layer<SentimentModelImpl> {
  nn::Embedding embedding{nullptr};
  nn::Linear fc{nullptr};
  nn::Sigmoid sigmoid{nullptr};

  // def __init__(self, vocab_size, embedding_dim):
  SentimentModelImpl(int64_t vocab_size, int64_t embedding_dim) {
    embedding = register_module("embedding", nn::Embedding(vocab_size, embedding_dim));  // nn.Embedding(vocab_size, embedding_dim)
    fc = register_module("fc", nn::Linear(embedding_dim, 1));                           // nn.Linear(embedding_dim, 1)
    sigmoid = register_module("sigmoid", nn::Sigmoid());                                // nn.Sigmoid()
  }

  template <class T> T forward(T x) {
    x = embedding(x);     // x = self.embedding(x)
    x = x.mean({1});      // x = x.mean(dim=1)
    x = fc(x);            // x = self.fc(x)
    return sigmoid(x);    // return self.sigmoid(x)
  }
};
TANDEM_MODULE(SentimentModel);

// torchvision's BasicBlock: two 3x3 convolutions with batch norm, and the input added back.
struct BasicBlockImpl : nn::Layer<BasicBlockImpl> {
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  nn::Sequential shortcut{nullptr};

  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride = 1) {
    conv1 = register_module("conv1", nn::Conv2d(in_planes, planes, 3, stride, 1, 1, 1, /*bias=*/false));
    bn1 = register_module("bn1", nn::BatchNorm2d(planes));
    conv2 = register_module("conv2", nn::Conv2d(planes, planes, 3, 1, 1, 1, 1, /*bias=*/false));
    bn2 = register_module("bn2", nn::BatchNorm2d(planes));
    shortcut = register_module("shortcut", nn::Sequential());  // empty: the identity
    if (stride != 1 || in_planes != planes) {  // a 1x1 convolution where the shape changes
      shortcut->push_back(nn::Conv2d(in_planes, planes, 1, stride, 0, 1, 1, /*bias=*/false));
      shortcut->push_back(nn::BatchNorm2d(planes));
    }
  }

  template <class T> T forward(const T& x) {
    T out = F::relu(bn1(conv1(x)));   // out = F.relu(self.bn1(self.conv1(x)))
    out = bn2(conv2(out));            // out = self.bn2(self.conv2(out))
    return F::relu(out + shortcut(x));  // return F.relu(out + self.shortcut(x))
  }
};
TANDEM_MODULE(BasicBlock);

// A small ResNet for 28x28 images: a stem, three stages of one BasicBlock (16, 32, 64 channels; the
// last two halve the image), global average pooling, a Linear classifier.
struct ResNetImpl : nn::Layer<ResNetImpl> {
  nn::Conv2d conv1{nullptr};
  nn::BatchNorm2d bn1{nullptr};
  BasicBlock layer1{nullptr}, layer2{nullptr}, layer3{nullptr};
  nn::AdaptiveAvgPool2d avgpool{nullptr};
  nn::Linear fc{nullptr};

  explicit ResNetImpl(std::array<int64_t, 3> widths = {16, 32, 64}, int64_t num_classes = 10) {
    conv1 = register_module("conv1", nn::Conv2d(1, widths[0], 3, 1, 1, 1, 1, /*bias=*/false));
    bn1 = register_module("bn1", nn::BatchNorm2d(widths[0]));
    layer1 = register_module("layer1", BasicBlock(widths[0], widths[0]));
    layer2 = register_module("layer2", BasicBlock(widths[0], widths[1], 2));
    layer3 = register_module("layer3", BasicBlock(widths[1], widths[2], 2));
    avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(1));
    fc = register_module("fc", nn::Linear(widths[2], num_classes));
  }

  template <class T> T forward(T x) {
    x = F::relu(bn1(conv1(x)));
    x = layer3(layer2(layer1(x)));
    x = flatten(avgpool(x), 1);  // torch.flatten(self.avgpool(x), 1)
    return fc(x);
  }
};
TANDEM_MODULE(ResNet);

}  // namespace tandem::seeds
