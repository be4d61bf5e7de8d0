// predict: load an eigennet model file and print its outputs for samples read from a CSV file.
//
//   predict MODEL [CSV]
//
// Each CSV row holds one sample's features, comma-separated; with no CSV argument (or "-") rows are
// read from standard input. Blank lines and lines starting with '#' are skipped, and a first row that
// is not numeric is taken for a header. For each sample one line is printed with the model's outputs
// (class probabilities for a classifier), comma-separated, with enough digits to identify the value
// exactly (17 significant digits for a float64 model, 9 for float32).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <eigennet/eigennet.hpp>

namespace {

constexpr eigennet::Index kBatch = 1024;  // samples predicted per call; bounds memory on long inputs

struct InputError {
  std::string message;
};

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

// Splits a row into numbers; false (and `bad` set) when a field is not a finite number.
bool parse_row(const std::string& line, std::vector<double>& values, std::string& bad) {
  values.clear();
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    const std::string field = trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    char* end = nullptr;
    const double v = std::strtod(field.c_str(), &end);
    if (field.empty() || *end != '\0' || !std::isfinite(v)) {
      bad = field;
      return false;
    }
    values.push_back(v);
    if (comma == std::string::npos) return true;
    start = comma + 1;
  }
}

template <typename T>
void print_outputs(const eigennet::Matrix<T>& out, eigennet::Index count) {
  const char* format = sizeof(T) == 4 ? "%.9g" : "%.17g";
  std::string line;
  char buf[40];
  for (eigennet::Index j = 0; j < count; ++j) {
    line.clear();
    for (eigennet::Index i = 0; i < out.rows(); ++i) {
      std::snprintf(buf, sizeof buf, format, static_cast<double>(out(i, j)));
      if (i) line += ',';
      line += buf;
    }
    line += '\n';
    std::fputs(line.c_str(), stdout);
  }
}

template <typename T>
int run(const std::string& model_path, std::istream& in, const std::string& source) {
  const auto network = eigennet::load_network<T>(model_path);
  const eigennet::Index n_in = network->input_dim();
  eigennet::Matrix<T> batch(n_in, kBatch), out(network->output_dim(), kBatch);
  eigennet::Index filled = 0;
  auto flush = [&] {
    if (filled == 0) return;
    network->predict(eigennet::ConstMatMap<T>(batch.data(), n_in, filled),
                     eigennet::MatMap<T>(out.data(), out.rows(), filled));
    print_outputs(out, filled);
    filled = 0;
  };

  std::string line, bad;
  std::vector<double> values;
  long line_number = 0;
  bool seen_row = false;
  while (std::getline(in, line)) {
    ++line_number;
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    if (!parse_row(text, values, bad)) {
      if (!seen_row) {  // a header line
        seen_row = true;
        continue;
      }
      throw InputError{source + ":" + std::to_string(line_number) + ": \"" + bad + "\" is not a number"};
    }
    seen_row = true;
    if (static_cast<eigennet::Index>(values.size()) != n_in)
      throw InputError{source + ":" + std::to_string(line_number) + ": " + std::to_string(values.size()) +
                       " features, but the model expects " + std::to_string(n_in)};
    for (eigennet::Index i = 0; i < n_in; ++i) batch(i, filled) = static_cast<T>(values[static_cast<std::size_t>(i)]);
    if (++filled == kBatch) flush();
  }
  if (in.bad()) throw InputError{"error reading " + source};
  flush();
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::fprintf(stderr, "usage: %s MODEL [CSV]\n  prints the model's outputs for each row of CSV (default: stdin)\n",
                 argc > 0 ? argv[0] : "predict");
    return 2;
  }
  const std::string model_path = argv[1];
  const std::string csv_path = argc == 3 ? argv[2] : "-";
  std::ifstream file;
  if (csv_path != "-") {
    file.open(csv_path);
    if (!file) {
      std::fprintf(stderr, "predict: cannot open %s\n", csv_path.c_str());
      return 1;
    }
  }
  std::istream& in = csv_path == "-" ? std::cin : file;
  const std::string source = csv_path == "-" ? "<stdin>" : csv_path;
  try {
    if (eigennet::model_dtype(model_path) == "float32") return run<float>(model_path, in, source);
    return run<double>(model_path, in, source);
  } catch (const eigennet::FormatError& e) {
    std::fprintf(stderr, "predict: cannot load model: %s\n", e.what());
  } catch (const InputError& e) {
    std::fprintf(stderr, "predict: %s\n", e.message.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict: %s\n", e.what());
  }
  return 1;
}
