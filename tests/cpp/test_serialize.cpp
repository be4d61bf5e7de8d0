// save_network / load_network: exact round trips, resumable training, and rejection of damaged or
// hostile files with FormatError.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "check.hpp"
#include "helpers.hpp"

using namespace eigennet;
using helpers::ModelFile;
using helpers::offsets_json;
using helpers::same_bits;
using helpers::TempDir;
using helpers::view;

namespace {

// RReLU draws from the network's random stream while training and shuffling draws from it too,
// so resuming bit for bit needs the stream state saved along with the weights and Adam's moments.
const char* kConfig = R"({"input_dim":4,"layers":[
    {"type":"Dense","n_out":6,"activation":"rrelu"},
    {"type":"Dense","n_out":5,"activation":"tanh"},
    {"type":"Output","n_out":3,"activation":"softmax","loss":"mcxent"}],
  "updater":{"name":"adam","learning_rate":0.01},"l2":0.001,"seed":2718})";

template <typename T>
struct Data {
  Matrix<T> X, Y;
};

template <typename T>
Data<T> make_data(Index n) {
  Rng rng(4);
  Data<T> d;
  d.X = helpers::uniform_matrix<T>(4, n, rng);
  std::vector<int> labels;
  for (Index j = 0; j < n; ++j) labels.push_back(static_cast<int>(rng.below(3)));
  d.Y = helpers::one_hot<T>(labels, 3);
  return d;
}

template <typename T>
void train(Network<T>& net, const Data<T>& d, int epochs) {
  for (int e = 0; e < epochs; ++e) net.fit_epoch(view(d.X), view(d.Y), 8, true);
}

template <typename T>
Vector<T> params_of(const Network<T>& net) {
  return Vector<T>(net.params());
}

template <typename T>
void check_round_trip_and_resume(const std::string& label) {
  TempDir dir;
  const Data<T> data = make_data<T>(50);
  Network<T> original(Json::parse(kConfig));
  train(original, data, 3);

  const std::string path = dir.file("model.enet");
  Json extra = Json::parse(R"({"note":"hello","nested":{"k":[1,2,3]}})");
  save_network(original, path, extra);
  // The temporary file used for the atomic write is gone.
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
    (void)entry;
    ++files;
  }
  CHECK_EQ(files, std::size_t(1));
  CHECK_EQ(model_dtype(path), std::string(std::is_same<T, float>::value ? "float32" : "float64"));

  Json loaded_extra;
  auto loaded = load_network<T>(path, &loaded_extra);
  CHECK_MSG(loaded_extra == extra, label << ": extra metadata " << loaded_extra.dump());
  CHECK_MSG(loaded->config() == original.config(), label << ": config " << loaded->config().dump());
  CHECK_MSG(same_bits(params_of(*loaded), params_of(original)), label << ": parameters differ");
  CHECK_MSG(same_bits(helpers::predict(*loaded, data.X), helpers::predict(original, data.X)),
            label << ": predictions differ");
  CHECK_EQ(loaded->updater().iteration(), original.updater().iteration());
  CHECK_EQ(loaded->updater().iteration(), std::int64_t(3 * 7));  // 50 samples in batches of 8
  CHECK_EQ(loaded->epoch(), std::int64_t(3));
  CHECK(loaded->updater().state_names() == original.updater().state_names());
  CHECK_EQ(loaded->updater().state().size(), std::size_t(2));  // Adam's m and v
  for (std::size_t i = 0; i < original.updater().state().size(); ++i)
    CHECK_MSG(same_bits(loaded->updater().state()[i], original.updater().state()[i]),
              label << ": updater state " << original.updater().state_names()[i] << " differs");
  CHECK_EQ(loaded->rng().serialize(), original.rng().serialize());

  // Saving what was loaded reproduces the file byte for byte.
  save_network(*loaded, dir.file("again.enet"), extra);
  CHECK(helpers::read_bytes(dir.file("again.enet")) == helpers::read_bytes(path));

  // The in-memory form is the file's bytes, and reads back to the same network.
  const std::string bytes = save_network_to_bytes(original, extra);
  CHECK(bytes == helpers::read_bytes(path));
  CHECK_EQ(model_dtype_from_bytes(bytes), model_dtype(path));
  Json bytes_extra;
  auto from_bytes = load_network_from_bytes<T>(bytes, &bytes_extra);
  CHECK(bytes_extra == extra);
  CHECK_MSG(same_bits(params_of(*from_bytes), params_of(original)), label << ": parameters from bytes differ");
  CHECK(save_network_to_bytes(*from_bytes, extra) == bytes);

  // Controls: each saved piece of state matters, so the comparison below can tell.
  auto fresh_stream = load_network<T>(path);
  fresh_stream->rng().reseed(12345);
  auto fresh_updater = load_network<T>(path);
  fresh_updater->set_updater(fresh_updater->config().at("updater"));

  // Continue both, and compare with a network trained without interruption.
  Network<T> uninterrupted(Json::parse(kConfig));
  train(uninterrupted, data, 7);
  train(*fresh_stream, data, 4);
  train(*fresh_updater, data, 4);
  CHECK(!same_bits(params_of(*fresh_stream), params_of(uninterrupted)));
  CHECK(!same_bits(params_of(*fresh_updater), params_of(uninterrupted)));
  train(*loaded, data, 4);
  train(original, data, 4);
  CHECK_MSG(same_bits(params_of(*loaded), params_of(uninterrupted)),
            label << ": resumed training differs from uninterrupted training");
  CHECK_MSG(same_bits(params_of(original), params_of(uninterrupted)), label << ": saving changed the network");
  CHECK_EQ(loaded->epoch(), uninterrupted.epoch());
  CHECK_EQ(loaded->updater().iteration(), uninterrupted.updater().iteration());
  for (std::size_t i = 0; i < uninterrupted.updater().state().size(); ++i)
    CHECK(same_bits(loaded->updater().state()[i], uninterrupted.updater().state()[i]));
}

// A valid model file to damage, and the pieces needed to do so.
struct Fixture {
  TempDir dir;
  std::string good = dir.file("good.enet");
  std::string bad = dir.file("bad.enet");
  Fixture() {
    Network<double> net(Json::parse(kConfig));
    const Data<double> data = make_data<double>(16);
    train(net, data, 1);
    save_network(net, good);
  }
  ModelFile file() const { return ModelFile::read(good); }
};

void expect_load_fails(const std::string& path, const std::string& message, const std::string& what) {
  bool threw = false;
  try {
    load_network<double>(path);
  } catch (const FormatError& e) {
    threw = true;
    CHECK_MSG(std::string(e.what()).find(message) != std::string::npos,
              what << ": message \"" << e.what() << "\" lacks \"" << message << "\"");
  } catch (const std::exception& e) {
    threw = true;
    CHECK_MSG(false, what << ": threw a non-FormatError: " << e.what());
  }
  CHECK_MSG(threw, what << ": loaded without error");
  // The single-precision loader validates the same way.
  CHECK_MSG(
      [&] {
        try {
          load_network<float>(path);
        } catch (const FormatError&) {
          return true;
        } catch (...) {
        }
        return false;
      }(),
      what << ": load_network<float> did not throw FormatError");
}

}  // namespace

TEST_CASE(save_load_round_trip_double) { check_round_trip_and_resume<double>("float64"); }

TEST_CASE(save_load_round_trip_float) { check_round_trip_and_resume<float>("float32"); }

TEST_CASE(load_converts_between_precisions) {
  TempDir dir;
  Network<float> single(Json::parse(kConfig));
  train(single, make_data<float>(20), 2);
  save_network(single, dir.file("f32.enet"));
  auto widened = load_network<double>(dir.file("f32.enet"));
  CHECK(same_bits(params_of(*widened), Vector<double>(params_of(single).cast<double>())));
  CHECK_EQ(widened->updater().iteration(), single.updater().iteration());
  CHECK(same_bits(widened->updater().state()[1], Vector<double>(single.updater().state()[1].cast<double>())));
}

TEST_CASE(header_describes_tensors_in_safetensors_layout) {
  Fixture f;
  const Json header = read_model_header(f.good);
  const Json& meta = header.at("__metadata__");
  CHECK_EQ(meta.at("format").as_string(), std::string("eigennet"));
  CHECK_EQ(meta.at("format_version").as_string(), std::to_string(kFormatVersion));
  CHECK_EQ(meta.at("dtype").as_string(), std::string("float64"));
  CHECK_EQ(header.at("layers.0.W").at("dtype").as_string(), std::string("F64"));
  CHECK(header.at("layers.0.W").at("shape") == Json::parse("[4,6]"));  // (n_in, n_out)
  CHECK(header.at("layers.0.b").at("shape") == Json::parse("[6]"));
  CHECK(header.at("layers.2.W").at("shape") == Json::parse("[5,3]"));
  const Index n_params = 4 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3;
  CHECK(header.at("updater.m").at("shape") == Json::parse("[" + std::to_string(n_params) + "]"));
  // Tensors are packed back to back from offset 0 and the data section starts 8-byte aligned.
  const auto bytes = helpers::read_bytes(f.good);
  std::uint64_t header_length = 0;
  for (int i = 0; i < 8; ++i) header_length |= std::uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  CHECK_EQ(header_length % 8, std::uint64_t(0));
  CHECK_EQ(bytes.size() - 8 - header_length, std::uint64_t(8 * (3 * n_params)));  // params, m, v
}

TEST_CASE(load_rejects_missing_and_truncated_files) {
  Fixture f;
  expect_load_fails(f.dir.file("does-not-exist.enet"), "cannot open", "missing file");
  const std::string bytes = helpers::read_bytes(f.good);
  std::uint64_t header_length = 0;
  for (int i = 0; i < 8; ++i) header_length |= std::uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  const std::size_t header_end = 8 + static_cast<std::size_t>(header_length);
  for (std::size_t size : {std::size_t(0), std::size_t(1), std::size_t(7), std::size_t(8), std::size_t(9),
                           std::size_t(100), header_end - 1, header_end, header_end + 1, header_end + 100,
                           bytes.size() - 8, bytes.size() - 1}) {
    helpers::write_bytes(f.bad, bytes.substr(0, size));
    expect_load_fails(f.bad, "", "truncated to " + std::to_string(size) + " bytes");
  }
  helpers::write_bytes(f.bad, bytes.substr(0, 4));
  expect_load_fails(f.bad, "not an eigennet model", "4-byte file");
  helpers::write_bytes(f.bad, bytes.substr(0, header_end - 1));
  expect_load_fails(f.bad, "does not fit the file", "file ending inside the header");
  helpers::write_bytes(f.bad, bytes.substr(0, bytes.size() - 1));
  expect_load_fails(f.bad, "lies outside the data section", "file ending inside the last tensor");
}

TEST_CASE(load_rejects_header_length_beyond_the_file) {
  Fixture f;
  const std::string bytes = helpers::read_bytes(f.good);
  for (std::uint64_t length : {std::uint64_t(bytes.size() - 7), std::uint64_t(bytes.size()),
                               std::uint64_t(1) << 32, std::uint64_t(1) << 63, std::numeric_limits<std::uint64_t>::max()}) {
    std::string damaged = bytes;
    for (int i = 0; i < 8; ++i) damaged[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xFF);
    helpers::write_bytes(f.bad, damaged);
    expect_load_fails(f.bad, "does not fit the file", "header length " + std::to_string(length));
  }
  // A header length that cuts the JSON short is caught as bad JSON.
  std::uint64_t header_length = 0;
  for (int i = 0; i < 8; ++i) header_length |= std::uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  std::string shortened = bytes;
  for (int i = 0; i < 8; ++i)
    shortened[static_cast<std::size_t>(i)] = static_cast<char>(((header_length - 16) >> (8 * i)) & 0xFF);
  helpers::write_bytes(f.bad, shortened);
  expect_load_fails(f.bad, "header is not valid JSON", "short header length");
}

TEST_CASE(load_rejects_wrong_format_and_version) {
  Fixture f;
  for (const char* version : {"2", "0", "", "1.0", " 1"}) {
    ModelFile file = f.file();
    file.set_field("__metadata__", "format_version", version);
    file.write(f.bad);
    expect_load_fails(f.bad, "unsupported format version", std::string("format_version \"") + version + "\"");
  }
  ModelFile file = f.file();
  file.set_field("__metadata__", "format", "pytorch");
  file.write(f.bad);
  expect_load_fails(f.bad, "not an eigennet model file", "format \"pytorch\"");

  const Json full_header = f.file().header;
  Json header = Json::object();  // no __metadata__ at all
  for (const auto& kv : full_header.as_object())
    if (kv.first != "__metadata__") header.set(kv.first, kv.second);
  file = f.file();
  file.header = header;
  file.write(f.bad);
  expect_load_fails(f.bad, "no __metadata__", "missing __metadata__");

  file = f.file();
  file.set_field("__metadata__", "iteration", 5);  // metadata values must be strings
  file.write(f.bad);
  expect_load_fails(f.bad, "expected a JSON string", "numeric metadata value");

  file = f.file();
  file.header = Json::parse("[1,2,3]");
  file.write(f.bad);
  expect_load_fails(f.bad, "header is not a JSON object", "array header");
  CHECK_THROWS(read_model_header(f.bad), FormatError, "header is not a JSON object");
  CHECK_THROWS(model_dtype(f.bad), FormatError, "");
}

TEST_CASE(load_rejects_tensors_with_wrong_shape_or_dtype) {
  Fixture f;
  struct Case {
    const char* tensor;
    const char* shape;
    const char* message;
  };
  const Case cases[] = {
      {"layers.0.W", "[6,4]", "has shape [6,4], expected [4, 6]"},  // same size, transposed
      {"layers.0.W", "[24]", "has shape [24], expected [4, 6]"},
      {"layers.0.W", "[2,3,4]", "has shape"},
      {"layers.0.b", "[1,6]", "has shape [1,6], expected [6]"},
      {"layers.1.W", "[6,6]", "byte range does not match its shape and dtype"},
      {"updater.m", "[3]", "byte range does not match"},
      {"layers.0.W", "[4,-6]", "bad dimension"},
      {"layers.0.W", "[4,6.5]", "expected an integer"},
  };
  for (const auto& c : cases) {
    ModelFile file = f.file();
    file.set_field(c.tensor, "shape", Json::parse(c.shape));
    file.write(f.bad);
    expect_load_fails(f.bad, c.message, std::string(c.tensor) + " shape " + c.shape);
  }
  ModelFile file = f.file();
  file.set_field("layers.0.W", "dtype", "F16");
  file.write(f.bad);
  expect_load_fails(f.bad, "unsupported dtype F16", "dtype F16");

  // F32 data where F64 is declared elsewhere is fine only if the byte count fits: here it does not.
  file = f.file();
  file.set_field("layers.0.b", "dtype", "F32");
  file.write(f.bad);
  expect_load_fails(f.bad, "byte range does not match", "dtype F32 on F64 bytes");

  const Json full_header = f.file().header;
  Json header = Json::object();  // drop one tensor
  for (const auto& kv : full_header.as_object())
    if (kv.first != "layers.1.b") header.set(kv.first, kv.second);
  file = f.file();
  file.header = header;
  file.write(f.bad);
  expect_load_fails(f.bad, "missing tensor \"layers.1.b\"", "missing tensor");
}

TEST_CASE(load_rejects_overlapping_and_out_of_range_offsets) {
  Fixture f;
  const ModelFile pristine = f.file();
  const auto w = pristine.offsets("layers.0.W");
  const auto b = pristine.offsets("layers.0.b");
  const std::int64_t b_bytes = b.second - b.first;
  const std::int64_t payload = static_cast<std::int64_t>(pristine.payload.size());

  ModelFile file = pristine;
  file.set_field("layers.0.b", "data_offsets", offsets_json(w.first + 8, w.first + 8 + b_bytes));  // inside W
  file.write(f.bad);
  expect_load_fails(f.bad, "tensors overlap", "b inside W");

  file = pristine;
  file.set_field("layers.0.b", "data_offsets", offsets_json(w.first, w.first + b_bytes));  // same start as W
  file.write(f.bad);
  expect_load_fails(f.bad, "tensors overlap", "b at W's offset");

  file = pristine;
  const auto last = pristine.offsets("updater.v");
  file.set_field("updater.v", "data_offsets", offsets_json(last.first - 8, last.second - 8));  // into updater.m
  file.write(f.bad);
  expect_load_fails(f.bad, "tensors overlap", "v overlapping m");

  const std::pair<std::int64_t, std::int64_t> out_of_range[] = {
      {payload, payload + b_bytes},          // just past the end
      {payload - 8, payload - 8 + b_bytes},  // straddles the end
      {-8, -8 + b_bytes},                    // negative
      {b.second, b.first},                   // end before begin
      {std::int64_t(1) << 52, (std::int64_t(1) << 52) + b_bytes},
  };
  for (const auto& range : out_of_range) {
    file = pristine;
    file.set_field("layers.0.b", "data_offsets", offsets_json(range.first, range.second));
    file.write(f.bad);
    expect_load_fails(f.bad, "", "offsets [" + std::to_string(range.first) + ", " + std::to_string(range.second) + ")");
  }
  file = pristine;
  file.set_field("layers.0.b", "data_offsets", offsets_json(payload, payload + b_bytes));
  file.write(f.bad);
  expect_load_fails(f.bad, "lies outside the data section", "offset past the end");

  file = pristine;
  file.set_field("layers.0.b", "data_offsets", Json::parse("[0]"));
  file.write(f.bad);
  expect_load_fails(f.bad, "data_offsets needs two numbers", "one offset");
}

TEST_CASE(load_rejects_bad_metadata_values) {
  Fixture f;
  struct Case {
    const char* key;
    const char* value;
    const char* message;
  };
  const Case cases[] = {
      {"iteration", "-1", "bad iteration"},
      {"iteration", "12abc", "bad iteration"},
      {"epoch", "", "bad epoch"},
      {"rng", "0 0 0 0 0 0", "bad random state"},
      {"rng", "garbage", "bad random state"},
      {"config", "{\"input_dim\":4,", "bad model configuration"},
      {"config", "{\"input_dim\":4,\"layers\":[{\"type\":\"Output\",\"n_out\":3,\"activation\":\"nope\",\"loss\":\"mse\"}]}",
       "the stored configuration is invalid (unknown activation \"nope\""},
      {"extra", "{not json", "bad extra metadata"},
  };
  for (const auto& c : cases) {
    ModelFile file = f.file();
    file.set_field("__metadata__", c.key, c.value);
    file.write(f.bad);
    bool threw = false;
    try {
      Json extra;
      load_network<double>(f.bad, &extra);  // with `extra` so that its parsing is exercised
    } catch (const FormatError& e) {
      threw = true;
      CHECK_MSG(std::string(e.what()).find(c.message) != std::string::npos,
                c.key << "=\"" << c.value << "\": message \"" << e.what() << "\"");
    }
    CHECK_MSG(threw, c.key << "=\"" << c.value << "\" was accepted");
  }
}

TEST_CASE(save_reports_unwritable_paths) {
  Network<double> net(Json::parse(kConfig));
  TempDir dir;
  CHECK_THROWS(save_network(net, dir.file("no/such/dir/model.enet")), std::runtime_error, "could not create");
}

int main(int argc, char** argv) { return check::run(argc, argv); }
