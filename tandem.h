// tandem.h — everything a program needs, in one include.
//
//   #include "tandem.h"
//   using namespace tandem;          // eager tensors: tensor, matmul, backward...
//   namespace g = tandem::graph;     // graph mode: g::placeholder, g::Session...
//   namespace nn = tandem::nn;       // layers: nn::Linear, nn::Sequential, nn::summary...
//   namespace keras = tandem::keras; // compile, fit, evaluate, predict, metrics, callbacks (train/)
//
// Students reading the engine should instead follow docs/tour.md, which opens the headers below one
// by one in the order they build on each other.
#pragma once

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/factories.h"
#include "graph/gradients.h"
#include "graph/ops.h"
#include "graph/session.h"
#include "layers/nn.h"
#include "layers/dropout_ops.h"
#include "layers/simple_losses.h"
#include "core/ops.h"
#include "core/print.h"
#include "core/shape.h"
#include "core/tensor.h"
#include "data/data.h"
#include "io/summary_ops.h"     // graph mode's tf.summary: g::summary::scalar, merge_all, FileWriter
#include "io/summary_writer.h"  // eager mode's tensorboard::SummaryWriter
#include "io/checkpoint.h"
#include "io/saver.h"
#include "io/state_dict.h"
#include "optim/optim.h"
#include "optim/schedule.h"
#include "optim/train.h"
#include "train/fit.h"
#include "train/progress.h"
