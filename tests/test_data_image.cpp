// tests/test_data_image.cpp — image files and transforms, against PIL and torchvision.
//
// The referees: scripts/fixtures/gen_images.py saved small pictures with PIL (PNG, BMP, JPEG; grey,
// RGB, RGBA) and recorded PIL's decoding of each and torchvision's transforms of them
// (tests/fixtures/images.txt). Here Tandem decodes the same files with stb_image and runs its own
// transforms, and both must agree. Then the other side of a loader: files that are not images,
// cut short, or lying about their size must give an Error that names the file.
//
// Read next: tests/test_data_text.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/factories.h"
#include "core/ops.h"
#include "data/dataloader.h"
#include "data/image.h"
#include "data/image_folder.h"
#include "data/random.h"
#include "data/transforms.h"
#include "tests/fixture.h"

using namespace tandem;
using namespace tandem::data;
namespace fs = std::filesystem;

namespace {

const FixtureCase& fixture(const std::string& name) {
  static const std::vector<FixtureCase> cases = load_fixtures(fixture_path("images.txt"));
  for (const FixtureCase& c : cases)
    if (c.name == name) return c;
  throw Error("no fixture case " + name);
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A fresh folder under the build tree, removed when the test ends.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) : path(fs::path(TANDEM_BINARY_DIR) / "test_data_image" / name) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("PNG and BMP files decode to exactly PIL's bytes", "[data][image]") {
  for (const char* name : {"rgb.png", "gray.png", "rgba.png", "rgb.bmp", "gray.bmp"}) {
    INFO(name);
    std::string key = std::string("decode_") + name;
    std::replace(key.begin(), key.end(), '.', '_');
    // An 8-bit BMP stores palette indices; stb expands every palette to RGB, PIL keeps a grey one
    // grey. Asking for grey gives PIL's bytes (for r = g = b = v, stb's luma (77r + 150g + 29b) / 256
    // is v again).
    const ImageMode mode = std::string(name) == "gray.bmp" ? ImageMode::gray : ImageMode::unchanged;
    const Tensor image = read_image(fixture_path(std::string("images/") + name), mode);
    CHECK(compare_with_fixture(image, fixture(key).output) == "");
  }
  // Modes convert channels as torchvision's ImageReadMode does: RGBA -> RGB drops alpha.
  const Tensor rgba = read_image(fixture_path("images/rgba.png"));
  const Tensor rgb = read_image(fixture_path("images/rgba.png"), ImageMode::rgb);
  CHECK(equal(rgb, rgba.slice(0, 0, 3)));
  CHECK(read_image(fixture_path("images/gray.png"), ImageMode::rgb).size(0) == 3);
  CHECK(read_image(fixture_path("images/rgb.png"), ImageMode::gray).size(0) == 1);
}

TEST_CASE("JPEG files decode to within two levels of libjpeg's answer", "[data][image]") {
  // JPEG stores rounded frequency coefficients; turning them back into pixels (the inverse DCT and
  // the chroma upsampling) is left to each decoder's own arithmetic. stb_image and libjpeg (PIL's
  // decoder) differ by a level here and there: we allow 2 of 255 per pixel, and require that
  // most pixels agree exactly — a wrong colour conversion or a shifted block would break both.
  for (const char* name : {"rgb.jpg", "rgb420.jpg", "gray.jpg"}) {
    INFO(name);
    std::string key = std::string("decode_") + name;
    std::replace(key.begin(), key.end(), '.', '_');
    const Tensor ours = read_image(fixture_path(std::string("images/") + name));
    const Tensor pil = fixture(key).output;
    REQUIRE(ours.shape() == pil.shape());
    const Tensor diff = abs(ours - pil);
    CHECK(diff.max().item<int64_t>() <= 2);
    CHECK((diff == int64_t{0}).to(kFloat32).mean().item() > 0.5);
  }
}

TEST_CASE("transforms match torchvision's", "[data][image]") {
  using namespace transforms;
  const std::vector<double> mean{0.485, 0.456, 0.406}, stdev{0.229, 0.224, 0.225};
  struct Check {
    const char* name;
    Transform t;
  };
  const std::vector<Check> checks = {
      {"resize_bytes_down", Resize(7, 9)},
          {"resize_float_shorter_side", Resize(10)},
      {"resize_float_tall", Resize(6)},
      {"center_crop", CenterCrop(8, 5)},
      {"center_crop_padded", CenterCrop(16)},
      {"hflip", hflip},
      {"to_tensor", ToTensor()},
      {"normalize", Normalize(mean, stdev)},
      // The seed's preprocess on the tensor path (ToTensor after the crop, as in the article).
      {"seed_preprocess", Compose({Resize(12), CenterCrop(10), ToTensor(), Normalize(mean, stdev)})},
  };
  for (const Check& c : checks) {
    INFO(c.name << ": " << fixture(c.name).expr);
    const FixtureCase& f = fixture(c.name);
    CHECK(compare_with_fixture(c.t(f.inputs["image"]), f.output) == "");
  }
}

TEST_CASE("resizing a byte image rounds like torchvision, except at float ties", "[data][image]") {
  // Resize on a byte image interpolates in float32 and rounds. Where the exact blend is x.5, the
  // last bits of float32 arithmetic decide the rounding, and PyTorch's kernel orders its float
  // operations differently from our plain loop (its result differs from the exact value by a few
  // ulps): those pixels may land one level apart. Everywhere else the bytes must be equal.
  const FixtureCase& f = fixture("resize_bytes_up");
  const Tensor ours = transforms::Resize(20, 30)(f.inputs["image"]);
  const Tensor blend = transforms::resize(f.inputs["image"].to(kFloat32), 20, 30);  // before rounding
  const auto got = ours.to_vector<int64_t>(), want = f.output.to_vector<int64_t>();
  const auto exact = blend.to_vector<double>();
  REQUIRE(got.size() == want.size());
  int64_t ties = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == want[i]) continue;
    INFO("pixel " << i << ": ours " << got[i] << ", torchvision " << want[i] << ", blend " << exact[i]);
    CHECK(std::abs(got[i] - want[i]) == 1);
    CHECK(std::abs(exact[i] - std::floor(exact[i]) - 0.5) < 1e-3);  // a tie
    ++ties;
  }
  CHECK(ties < static_cast<int64_t>(got.size()) / 100);
}

TEST_CASE("random crops and flips are seeded by the example", "[data][image]") {
  using namespace transforms;
  const Tensor image = arange(2 * 6 * 6).reshape({2, 6, 6});
  auto draw = [&](int64_t index) {
    ExampleSeed seed(11, index);
    return RandomCrop(4, 1)(image);
  };
  CHECK(equal(draw(3), draw(3)));  // same example, same crop
  bool differ = false;
  for (int64_t i = 0; i < 10; ++i) differ |= !equal(draw(i), draw(3));
  CHECK(differ);
  // With padding 1, a 4x4 crop starts at -1..3; where it hangs over the edge it reads zeros.
  for (int64_t i = 0; i < 20; ++i) CHECK(draw(i).shape() == Shape{2, 4, 4});
  CHECK_THROWS_WITH(RandomCrop(9)(image), Catch::Contains("does not fit"));
  const Tensor never = RandomHorizontalFlip(0.0)(image), always = RandomHorizontalFlip(1.0)(image);
  CHECK(equal(never, image));
  CHECK(equal(always, hflip(image)));
  CHECK_THROWS_WITH(Normalize({0.5}, {0.0}), Catch::Contains("std evaluated to 0"));
  CHECK_THROWS_WITH(Normalize({0.5}, {0.5})(image), Catch::Contains("apply ToTensor first"));
  CHECK_THROWS_WITH(Normalize({0.5}, {0.5})(ToTensor()(image)), Catch::Contains("2 channels"));
  CHECK_THROWS_WITH(ToTensor()(image.to(kFloat32)), Catch::Contains("already a tensor"));
}

TEST_CASE("write_png then read_image gives the image back", "[data][image]") {
  TempDir dir("png");
  const Tensor bytes = read_image(fixture_path("images/rgb.png"));
  write_png(bytes, (dir.path / "copy.png").string());
  CHECK(equal(read_image((dir.path / "copy.png").string()), bytes));
  // Floats in [0, 1] are stored as round(255 x): the byte image / 255 comes back as it was.
  const Tensor floats = transforms::ToTensor()(bytes);
  write_png(floats, (dir.path / "float.png").string());
  CHECK(equal(read_image((dir.path / "float.png").string()), bytes));
  // A grey [H, W] image, and out-of-range floats clamped.
  write_png(tensor({{-1.0, 0.5}, {2.0, 1.0}}), (dir.path / "gray.png").string());
  CHECK(read_image((dir.path / "gray.png").string()).to_vector<int64_t>() == std::vector<int64_t>{0, 128, 255, 255});
  CHECK_THROWS_WITH(write_png(tensor({{300}}), (dir.path / "bad.png").string()), Catch::Contains("0-255"));
  CHECK_THROWS_WITH(write_png(zeros({5, 2, 2}), (dir.path / "bad.png").string()), Catch::Contains("1-4 channels"));
  CHECK(!fs::exists(dir.path / "bad.png"));
}

TEST_CASE("write_jpeg then read_image gives the image back, up to JPEG's rounding", "[data][image]") {
  TempDir dir("jpeg");
  // A smooth picture: JPEG keeps the low frequencies, so it comes back within a few levels of 255.
  const Tensor ramp = (arange(0, 32).reshape({1, 32}) * 4 + arange(0, 32).reshape({32, 1}) * 3).to(kInt64);  // [32, 32], 0-217
  write_jpeg(ramp, (dir.path / "ramp.jpg").string(), 95);
  // stb stores every JPEG in colour: grey comes back as three equal channels, or as one when asked.
  const Tensor back = read_image((dir.path / "ramp.jpg").string());
  REQUIRE(back.shape() == Shape{3, 32, 32});
  CHECK(equal(back[0], back[1]));
  CHECK(equal(back[1], back[2]));
  const Tensor grey = read_image((dir.path / "ramp.jpg").string(), ImageMode::gray);
  REQUIRE(grey.shape() == Shape{1, 32, 32});
  CHECK((grey - ramp.unsqueeze(0)).abs().max().item<int64_t>() <= 6);
  const std::string file = encode_jpeg(ramp, 95);
  CHECK(static_cast<unsigned char>(file[0]) == 0xFF);  // JPEG's start-of-image marker, FF D8
  CHECK(static_cast<unsigned char>(file[1]) == 0xD8);
  CHECK(encode_jpeg(ramp, 10).size() < file.size());  // lower quality: fewer bits
  // Colour, and floats in [0, 1], as write_png takes them.
  const Tensor rgb = read_image(fixture_path("images/rgb.png"));
  write_jpeg(transforms::ToTensor()(rgb), (dir.path / "rgb.jpg").string());
  CHECK(read_image((dir.path / "rgb.jpg").string()).shape() == rgb.shape());
  CHECK_THROWS_WITH(encode_jpeg(ramp, 0), Catch::Contains("quality must be 1-100"));
  CHECK_THROWS_WITH(write_jpeg(zeros({5, 2, 2}), (dir.path / "bad.jpg").string()),
                    Catch::Contains("encode_jpeg") && Catch::Contains("1-4 channels"));
  CHECK(!fs::exists(dir.path / "bad.jpg"));
}

TEST_CASE("ImageFolder: one sub-folder per class, on a folder the test writes", "[data][image]") {
  TempDir dir("folder");
  fs::create_directories(dir.path / "dog");
  fs::create_directories(dir.path / "cat" / "more");
  const Tensor image = read_image(fixture_path("images/rgb.png"));  // [3, 13, 17]
  write_png(image, (dir.path / "dog" / "b.png").string());
  write_png(image, (dir.path / "dog" / "a.PNG").string());
  write_png(image, (dir.path / "cat" / "more" / "c.png").string());
  std::ofstream(dir.path / "cat" / "notes.txt") << "not an image";
  using namespace transforms;
  ImageFolder folder(dir.path.string(), Compose({Resize(8), CenterCrop(8), ToTensor()}));
  CHECK(folder.classes() == std::vector<std::string>{"cat", "dog"});
  REQUIRE(folder.size() == 3);
  CHECK(folder.samples()[0].path.ends_with("c.png"));
  CHECK(folder.samples()[1].path.ends_with("a.PNG"));  // sorted by path within a class
  const Example e = folder.get(2);
  CHECK(e[0].shape() == Shape{3, 8, 8});
  CHECK(e[1].item<int64_t>() == 1);  // dog
  DataLoader loader(share(std::move(folder)), {.batch_size = 3, .num_workers = 2});
  const Example batch = *loader.begin();
  CHECK(batch[0].shape() == Shape{3, 3, 8, 8});
  CHECK(batch[1].to_vector<int64_t>() == std::vector<int64_t>{0, 1, 1});
  // A corrupt file in the folder: the error names it, from the worker, at its batch.
  std::ofstream(dir.path / "dog" / "c.png", std::ios::binary) << "\x89PNG\r\n\x1a\n garbage";
  DataLoader broken(ImageFolder(dir.path.string()), {.batch_size = 4, .num_workers = 1});
  CHECK_THROWS_WITH(*broken.begin(), Catch::Contains("c.png"));
  CHECK_THROWS_WITH(ImageFolder((dir.path / "cat" / "more").string()), Catch::Contains("no class folders"));
  CHECK_THROWS_WITH(ImageFolder((dir.path / "nowhere").string()), Catch::Contains("is not a folder"));
}

TEST_CASE("bad image files are Errors that name the file", "[data][image]") {
  const std::vector<uint8_t> png = file_bytes(fixture_path("images/rgb.png"));
  const std::vector<uint8_t> jpg = file_bytes(fixture_path("images/rgb.jpg"));
  const std::vector<uint8_t> bmp = file_bytes(fixture_path("images/rgb.bmp"));
  auto cut = [](const std::vector<uint8_t>& b, size_t n) { return std::vector<uint8_t>(b.begin(), b.begin() + n); };
  auto decode = [](const std::vector<uint8_t>& b) { return decode_image(b, "upload.bin"); };

  CHECK_THROWS_WITH(decode({}), Catch::Contains("upload.bin") && Catch::Contains("not a PNG, JPEG or BMP"));
  CHECK_THROWS_WITH(decode({'G', 'I', 'F', '8'}), Catch::Contains("starting 71 73 70 56"));
  // Cut short anywhere: every prefix is refused (none decodes to a partly grey picture).
  for (const auto* file : {&png, &jpg, &bmp})
    for (size_t n = 0; n < file->size(); n += std::max<size_t>(1, file->size() / 40)) {
      INFO("prefix of " << n << " of " << file->size() << " bytes");
      CHECK_THROWS_AS(decode(cut(*file, n)), Error);
    }
  CHECK_THROWS_WITH(decode(cut(jpg, jpg.size() - 2)), Catch::Contains("truncated JPEG"));
  CHECK_THROWS_WITH(decode(cut(bmp, bmp.size() - 1)), Catch::Contains("truncated BMP"));
  CHECK_THROWS_WITH(decode(cut(png, png.size() - 12)), Catch::Contains("truncated PNG"));
  // A header that lies: a BMP claiming 60000 x 60000 pixels in 166 bytes.
  std::vector<uint8_t> huge = bmp;
  for (size_t at : {18, 22}) {  // width and height, little-endian int32
    huge[at] = 0x60, huge[at + 1] = 0xEA, huge[at + 2] = 0, huge[at + 3] = 0;
  }
  CHECK_THROWS_WITH(decode(huge), Catch::Contains("60000 x 60000"));
  // A 744-byte PNG whose IHDR claims 12000 x 12000 RGB: refused before stb allocates 432 MB.
  std::vector<uint8_t> big_png = png;
  for (size_t at : {16, 20}) {  // width and height, big-endian, in the IHDR chunk
    big_png[at] = 0, big_png[at + 1] = 0, big_png[at + 2] = 0x2E, big_png[at + 3] = 0xE0;
  }
  CHECK_THROWS_WITH(decode(big_png), Catch::Contains("12000 x 12000") && Catch::Contains("corrupt or hostile"));
  // A chunk that claims more data than the file holds: a PNG whose image data (IDAT) says 1 GiB.
  // stb would grow its buffer to the claim before reading (fuzz_image found one that made it
  // allocate 2 GiB); the chunk walk refuses it first.
  std::vector<uint8_t> liar = png;
  const auto idat = std::search(liar.begin(), liar.end(), std::begin("IDAT"), std::end("IDAT") - 1);
  REQUIRE(idat != liar.end());
  std::fill(idat - 4, idat, uint8_t{0});
  *(idat - 4) = 0x40;  // the length before the type: 0x40000000, big-endian
  CHECK_THROWS_WITH(decode(liar), Catch::Contains("corrupt or truncated PNG") && Catch::Contains("claims 1073741824"));
  CHECK_THROWS_WITH(read_image("no/such/image.png"), Catch::Contains("no such file: no/such/image.png"));
  CHECK_THROWS_WITH(read_image(TANDEM_SOURCE_DIR "/tests"), Catch::Contains("is a folder, not an image file"));
}

TEST_CASE("the image fuzz corpus replays without a crash", "[data][image]") {
  // tests/fuzz/fuzz_image.cpp feeds arbitrary bytes to decode_image; its seed corpus (valid files,
  // cut and corrupted copies) must each decode or throw a tandem::Error — nothing else.
  const fs::path corpus = fs::path(TANDEM_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "image";
  int files = 0, decoded = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(corpus)) {
    ++files;
    INFO(e.path().string());
    try {
      const Tensor image = decode_image(file_bytes(e.path().string()), e.path().string());
      CHECK(image.dim() == 3);
      ++decoded;
    } catch (const Error& err) {
      CHECK(std::string(err.what()).find(e.path().filename().string()) != std::string::npos);
    }
  }
  CHECK(files >= 12);
  CHECK(decoded >= 3);  // the valid seeds
}
