// data/image_folder.cpp — listing the class folders once; decoding one file per get().
#include "data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/factories.h"

namespace tandem::data {

namespace {
bool is_image_file(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}
}  // namespace

ImageFolder::ImageFolder(const std::string& root, transforms::Transform transform, ImageMode mode)
    : transform_(std::move(transform)), mode_(mode) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw Error(msg("ImageFolder: ", root, " is not a folder; give the folder that holds one sub-folder per class"));
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec))
    if (e.is_directory()) classes_.push_back(e.path().filename().string());
  if (ec) throw Error(msg("ImageFolder: cannot list ", root, " (", ec.message(), ")"));
  std::sort(classes_.begin(), classes_.end());
  if (classes_.empty())
    throw Error(msg("ImageFolder: no class folders in ", root, "; put the images of class c in ", root, "/c/"));
  for (size_t label = 0; label < classes_.size(); ++label) {
    std::vector<std::string> files;
    for (const fs::directory_entry& e : fs::recursive_directory_iterator(fs::path(root) / classes_[label], ec))
      if (e.is_regular_file() && is_image_file(e.path())) files.push_back(e.path().string());
    if (ec) throw Error(msg("ImageFolder: cannot list ", root, "/", classes_[label], " (", ec.message(), ")"));
    std::sort(files.begin(), files.end());
    for (std::string& f : files) samples_.push_back({std::move(f), static_cast<int64_t>(label)});
  }
  if (samples_.empty())
    throw Error(msg("ImageFolder: found no .png, .jpg, .jpeg or .bmp files in the class folders of ", root));
}

Example ImageFolder::get(int64_t index) const {
  check_index(index, "ImageFolder");
  const Sample& s = samples_[static_cast<size_t>(index)];
  Tensor image = read_image(s.path, mode_);
  if (transform_) image = transform_(image);
  return {image, tensor(s.label)};
}

}  // namespace tandem::data
