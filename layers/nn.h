// layers/nn.h — every layer, loss and tool of layers/, in one include (torch.nn).
//
//     #include "tandem.h"                    // includes this
//     namespace nn = tandem::nn;             // nn::Linear, nn::Sequential, nn::CrossEntropyLoss
//     namespace F = tandem::nn::functional;  // F::leaky_relu, F::cross_entropy
//
// Read in this order: module.h (Module, the holder, one forward for two modes), linear.h, conv.h,
// normalization.h, embedding.h, dropout.h, activation.h, container.h, losses.h, summary.h,
// keras.h; functional.h has the math they all call.
#pragma once

#include "layers/activation.h"
#include "layers/container.h"
#include "layers/conv.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/functional.h"
#include "layers/init.h"
#include "layers/keras.h"
#include "layers/linear.h"
#include "layers/losses.h"
#include "layers/module.h"
#include "layers/normalization.h"
#include "layers/summary.h"
