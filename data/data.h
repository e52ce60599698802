// data/data.h — the data chapter in one include: datasets and loaders in both styles, images,
// transforms, Fashion-MNIST and text.
//
// Reading order: data/random.h (reproducible randomness), data/dataset.h, data/dataloader.h
// (PyTorch's way), data/pipeline.h (tf.data's way), data/image.h, data/transforms.h,
// data/image_folder.h, data/idx.h and data/fashion_mnist.h, data/text.h, data/movie_reviews.h.
#pragma once

#include "data/dataloader.h"
#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "data/idx.h"
#include "data/image.h"
#include "data/image_folder.h"
#include "data/movie_reviews.h"
#include "data/pipeline.h"
#include "data/random.h"
#include "data/text.h"
#include "data/transforms.h"
