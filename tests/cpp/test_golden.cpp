// The committed golden model (tests/data/golden.enet, made by tests/data/make_golden.py) still loads
// and predicts what NumPy computed for it (tests/data/golden_expected.csv).
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "check.hpp"
#include "helpers.hpp"

using namespace eigennet;

#ifndef EIGENNET_TEST_DATA_DIR
#error "EIGENNET_TEST_DATA_DIR must name the tests/data directory"
#endif

namespace {

const std::string kDataDir = EIGENNET_TEST_DATA_DIR;

// Rows of the CSV after its header line, as doubles.
std::vector<std::vector<double>> read_csv(const std::string& path, std::string* header) {
  std::ifstream in(path);
  std::vector<std::vector<double>> rows;
  std::string line;
  if (!std::getline(in, *header)) return rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) {
      char* end = nullptr;
      row.push_back(std::strtod(field.c_str(), &end));
      CHECK_MSG(end != field.c_str() && *end == '\0', "bad number \"" << field << "\" in " << path);
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST_CASE(golden_model_predicts_expected_outputs) {
  const std::string model_path = kDataDir + "/golden.enet";
  std::string header;
  const auto rows = read_csv(kDataDir + "/golden_expected.csv", &header);
  CHECK_EQ(header, std::string("x0,x1,x2,x3,y0,y1,y2"));
  CHECK_EQ(rows.size(), std::size_t(12));
  if (rows.empty()) return;

  CHECK_EQ(model_dtype(model_path), std::string("float64"));
  Json extra;
  auto net = load_network<double>(model_path, &extra);
  CHECK_EQ(net->input_dim(), Index(4));
  CHECK_EQ(net->output_dim(), Index(3));
  CHECK_EQ(net->num_layers(), std::size_t(2));
  CHECK_EQ(net->num_params(), Index(4 * 5 + 5 + 5 * 3 + 3));
  CHECK_EQ(net->layer(0).activation()->name(), std::string("TANH"));
  CHECK_EQ(net->layer(1).loss()->name(), std::string("MCXENT"));
  CHECK_EQ(net->updater().name(), std::string("ADAM"));
  CHECK_EQ(net->updater().iteration(), std::int64_t(0));
  CHECK(extra.is_object());

  // The weights are the formulas documented in make_golden.py, stored as (n_in, n_out).
  const auto params = net->params();
  const auto& w0 = net->find_param(0, "W");  // n_out x n_in column-major = (n_in, n_out) C-order
  for (Index i = 0; i < 4; ++i)
    for (Index j = 0; j < 5; ++j)
      CHECK_EQ(params[w0.offset + i * 5 + j], ((7 * i + 3 * j) % 11 - 5) / 8.0);
  const auto& b1 = net->find_param(1, "b");
  CHECK_EQ(params[b1.offset + 1], -0.2);

  const Index n = static_cast<Index>(rows.size());
  Matrix<double> X(4, n), expected(3, n);
  for (Index j = 0; j < n; ++j) {
    const auto& row = rows[static_cast<std::size_t>(j)];
    CHECK_EQ(row.size(), std::size_t(7));
    if (row.size() != 7) return;
    for (Index i = 0; i < 4; ++i) X(i, j) = row[static_cast<std::size_t>(i)];
    for (Index i = 0; i < 3; ++i) expected(i, j) = row[static_cast<std::size_t>(4 + i)];
  }
  const Matrix<double> got = helpers::predict(*net, X);
  const double worst = (got - expected).cwiseAbs().maxCoeff();
  CHECK_MSG(worst < 1e-12, "largest difference from the expected outputs: " << worst);

  // Loaded in single precision it agrees to float accuracy.
  auto single = load_network<float>(model_path);
  const Matrix<float> Xf = X.cast<float>();
  const Matrix<double> got_single = helpers::predict(*single, Xf).cast<double>();
  CHECK_NEAR((got_single - expected).cwiseAbs().maxCoeff(), 0.0, 1e-5);
}

int main(int argc, char** argv) { return check::run(argc, argv); }
