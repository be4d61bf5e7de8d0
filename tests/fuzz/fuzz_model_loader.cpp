// Fuzz target for the model-file loader: any byte string handed to load_network_from_bytes /
// model_dtype_from_bytes must either load or throw eigennet::FormatError. Anything else escaping
// (std::bad_alloc, std::length_error, ...), a crash, or a sanitizer report is a finding.
//
// Built two ways from this one file:
//  * with clang and -fsanitize=fuzzer,address,undefined as the libFuzzer binary (scripts/fuzz.sh);
//  * with the ordinary compiler, linked to replay_corpus.cpp, as the ctest test fuzz_corpus_replay,
//    which feeds every file of tests/fuzz/corpus through the same function, so each input the
//    fuzzer ever found stays a regression test.
//
// Beyond "does not crash", inputs that load are held to two properties that corruption tends to
// break: the network saved again loads again to identical bytes, and predicting one sample
// gives finite-or-not numbers without touching memory it does not own (ASan watches that).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include "eigennet/errors.hpp"
#include "eigennet/json.hpp"
#include "eigennet/serialize.hpp"
#include "eigennet/threads.hpp"

namespace {

[[noreturn]] void finding(const char* what, const std::string& detail) {
  std::fprintf(stderr, "eigennet fuzz finding: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Prediction allocates input_dim + output_dim values per sample; a network without weights may
// legitimately declare an input width of 2^31, which is valid but not worth a fuzz iteration.
constexpr eigennet::Index kMaxPredictWidth = 1 << 16;

template <typename T>
void load_and_exercise(const std::string& bytes) {
  eigennet::Json extra;
  std::unique_ptr<eigennet::Network<T>> network;
  try {
    network = eigennet::load_network_from_bytes<T>(bytes, &extra);
  } catch (const eigennet::FormatError&) {
    return;  // the expected outcome for almost every input
  }
  // A loaded network must survive its own round trip unchanged.
  const std::string saved = eigennet::save_network_to_bytes<T>(*network, extra);
  std::unique_ptr<eigennet::Network<T>> again;
  try {
    again = eigennet::load_network_from_bytes<T>(saved, &extra);
  } catch (const eigennet::FormatError& e) {
    finding("a loaded network saved bytes that do not load", e.what());
  }
  if (eigennet::save_network_to_bytes<T>(*again, extra) != saved)
    finding("save -> load -> save changed the bytes", std::to_string(saved.size()) + " bytes");

  const eigennet::Index n_in = network->input_dim(), n_out = network->output_dim();
  if (n_in > kMaxPredictWidth || n_out > kMaxPredictWidth) return;
  eigennet::Matrix<T> x = eigennet::Matrix<T>::Constant(n_in, 2, T(0.5));
  eigennet::Matrix<T> y(n_out, 2);
  network->predict(eigennet::ConstMatMap<T>(x.data(), n_in, 2), eigennet::MatMap<T>(y.data(), n_out, 2));
}

void check_json_round_trip(const std::string& text) {
  eigennet::Json value;
  try {
    value = eigennet::Json::parse(text);
  } catch (const eigennet::FormatError&) {
    return;
  }
  const std::string dumped = value.dump();
  eigennet::Json again;
  try {
    again = eigennet::Json::parse(dumped);
  } catch (const eigennet::FormatError& e) {
    finding("Json::dump wrote text Json::parse rejects", e.what());
  }
  if (again.dump() != dumped) finding("Json dump -> parse -> dump is not stable", dumped.substr(0, 200));
}

}  // namespace

#ifdef EIGENNET_LIBFUZZER
// Plain byte mutations almost always break the 8-byte header length, so the loader would reject
// nearly every mutant at its first check. Half the time this mutator instead edits the header
// text or the data section on its own and rewrites the length to match, which lets mutants reach
// the JSON, the tensor table, the configuration and the network constructor.
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  if (size < 8 || max_size < 16 || seed % 2 == 0) return LLVMFuzzerMutate(data, size, max_size);
  std::uint64_t declared = 0;
  for (int i = 0; i < 8; ++i) declared |= static_cast<std::uint64_t>(data[i]) << (8 * i);
  const std::size_t header_length = static_cast<std::size_t>(std::min<std::uint64_t>(declared, size - 8));
  std::string header(reinterpret_cast<const char*>(data) + 8, header_length);
  std::string payload(reinterpret_cast<const char*>(data) + 8 + header_length, size - 8 - header_length);
  const std::size_t room = max_size - 8;
  std::string& part = (seed / 2) % 4 == 0 ? payload : header;  // the header holds most of the logic
  const std::size_t other = &part == &header ? payload.size() : header.size();
  if (other >= room) return LLVMFuzzerMutate(data, size, max_size);
  const std::size_t capacity = room - other;
  const std::size_t old_size = std::min(part.size(), capacity);
  part.resize(std::max<std::size_t>(capacity, 1));
  part.resize(LLVMFuzzerMutate(reinterpret_cast<std::uint8_t*>(part.data()), old_size, capacity));
  const std::uint64_t length = header.size();
  for (int i = 0; i < 8; ++i) data[i] = static_cast<std::uint8_t>(length >> (8 * i));
  std::copy(header.begin(), header.end(), data + 8);
  std::copy(payload.begin(), payload.end(), data + 8 + header.size());
  return 8 + header.size() + payload.size();
}
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One input at a time on one thread: worker threads would only add noise to the coverage.
  eigennet::set_num_threads(1);
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    try {
      const std::string dtype = eigennet::model_dtype_from_bytes(bytes);
      if (dtype != "float32" && dtype != "float64") finding("model_dtype_from_bytes returned", dtype);
    } catch (const eigennet::FormatError&) {
    }
    load_and_exercise<float>(bytes);
    load_and_exercise<double>(bytes);
    // The header parser sees the JSON inside a model file; the raw input also reaches it directly,
    // which covers JSON the safetensors framing would otherwise have to be fuzzed past first.
    check_json_round_trip(bytes);
  } catch (const std::exception& e) {
    finding("unexpected exception", e.what());
  }
  return 0;
}
