// Network: gradients against central differences, a C++ custom activation, learning XOR, and
// configuration errors with helpful messages.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "helpers.hpp"

using namespace eigennet;
using helpers::gradient_check;
using helpers::one_hot;
using helpers::uniform_matrix;
using helpers::view;

namespace {

// f(z) = z^2, written against the public Activation interface.
class MySquare final : public Activation<double> {
 public:
  std::string name() const override { return "MYSQUARE"; }
  std::unique_ptr<Activation<double>> clone() const override { return std::make_unique<MySquare>(*this); }
  void forward(ConstMatMap<double> z, MatMap<double> a, bool, Rng&) override { a.array() = z.array().square(); }
  void backward(ConstMatMap<double> z, ConstMatMap<double>, ConstMatMap<double> da, MatMap<double> dz) override {
    dz.array() = 2.0 * z.array() * da.array();  // elementwise, so dz may alias da
  }
};

// Per-sample loss sum_i (a_i - y_i)^4, written against the public Loss interface.
class MyQuartic final : public Loss<double> {
 public:
  std::string name() const override { return "MYQUARTIC"; }
  std::unique_ptr<Loss<double>> clone() const override { return std::make_unique<MyQuartic>(*this); }

 protected:
  void sample_losses(ConstMatMap<double>, ConstMatMap<double> a, ConstMatMap<double> y, const Activation<double>&,
                     Eigen::Ref<Vector<double>> out) const override {
    out = (a - y).array().pow(4).colwise().sum().transpose();
  }
  double total_loss(ConstMatMap<double>, ConstMatMap<double> a, ConstMatMap<double> y,
                    const Activation<double>&) const override {
    return (a - y).array().pow(4).sum();
  }
  void output_gradient(ConstMatMap<double> a, ConstMatMap<double> y, MatMap<double> da) const override {
    da.array() = 4.0 * (a - y).array().cube();
  }
};

Json mlp_config(const std::string& hidden, const std::string& output, const std::string& loss, int n_out,
                double l2 = 0.0, double l1 = 0.0, bool regularize_bias = false) {
  Json cfg = Json::object();
  cfg.set("input_dim", 4);
  cfg.set("seed", 17);
  Json layers = Json::array();
  Json dense = Json::object();
  dense.set("type", "Dense");
  dense.set("n_out", 5);
  dense.set("activation", hidden);
  layers.push_back(dense);
  Json out = Json::object();
  out.set("type", "Output");
  out.set("n_out", n_out);
  out.set("activation", output);
  out.set("loss", loss);
  layers.push_back(out);
  cfg.set("layers", layers);
  cfg.set("l2", l2);
  cfg.set("l1", l1);
  cfg.set("regularize_bias", regularize_bias);
  return cfg;
}

// Random inputs and labels suited to the loss: one-hot rows, {0,1} targets or real values.
Matrix<double> labels_for(const std::string& loss, Index n_out, Index n, Rng& rng) {
  if (loss == "mcxent" || loss == "negativeloglikelihood") {
    std::vector<int> classes;
    for (Index j = 0; j < n; ++j) classes.push_back(static_cast<int>(rng.below(static_cast<std::uint64_t>(n_out))));
    return one_hot<double>(classes, n_out);
  }
  if (loss == "xent") {
    Matrix<double> y(n_out, n);
    for (Index j = 0; j < n; ++j)
      for (Index i = 0; i < n_out; ++i) y(i, j) = rng.uniform() < 0.5 ? 0.0 : 1.0;
    return y;
  }
  return uniform_matrix<double>(n_out, n, rng, -1.0, 1.0);
}

void expect_gradients_match(const Json& cfg, const std::string& loss, const std::string& what) {
  Network<double> net(cfg);
  Rng data_rng(99);
  const Index n = 7;
  const Matrix<double> X = uniform_matrix<double>(4, n, data_rng, -1.5, 1.5);
  const Matrix<double> Y = labels_for(loss, net.output_dim(), n, data_rng);
  const auto result = gradient_check(net, X, Y);
  std::printf("  gradient check %-40s worst relative error %.2e over %ld parameters\n", what.c_str(),
              result.worst_relative, static_cast<long>(result.checked));
  CHECK_EQ(result.checked, net.num_params());  // no gradient was negligible, so every entry was compared
  CHECK_MSG(result.worst_relative < 1e-6, what << ": worst relative error " << result.worst_relative
                                               << " (worst absolute " << result.worst_absolute << ")");
}

int argmax(const Matrix<double>& out, Index column) {
  Index best = 0;
  out.col(column).maxCoeff(&best);
  return static_cast<int>(best);
}

}  // namespace

TEST_CASE(gradient_check_tanh_softmax_mcxent_with_l2) {
  const Json cfg = mlp_config("tanh", "softmax", "mcxent", 3, /*l2=*/0.01);
  expect_gradients_match(cfg, "mcxent", "tanh -> softmax/mcxent, l2");
  // The penalty is part of the score: with l2 the score rises by 0.5 * l2 * |W|^2.
  Network<double> with_l2(cfg), without(mlp_config("tanh", "softmax", "mcxent", 3));
  Rng rng(1);
  const Matrix<double> X = uniform_matrix<double>(4, 5, rng);
  const Matrix<double> Y = one_hot<double>({0, 1, 2, 0, 1}, 3);
  double weights_sq = 0;
  for (const auto& loc : with_l2.param_locations())
    if (!loc.is_bias) weights_sq += with_l2.params().segment(loc.offset, loc.rows * loc.cols).squaredNorm();
  CHECK_NEAR(with_l2.score(view(X), view(Y)) - without.score(view(X), view(Y)), 0.5 * 0.01 * weights_sq, 1e-12);
}

TEST_CASE(gradient_check_other_layer_and_loss_combinations) {
  struct Combo {
    const char* hidden;
    const char* output;
    const char* loss;
    int n_out;
  };
  const Combo combos[] = {
      {"sigmoid", "sigmoid", "xent", 3},   {"softplus", "identity", "mse", 2},  {"elu", "identity", "l2", 2},
      {"softsign", "softmax", "negativeloglikelihood", 4}, {"selu", "tanh", "mse", 3},  {"swish", "identity", "mse", 1},
  };
  for (const auto& c : combos) {
    const std::string what = std::string(c.hidden) + " -> " + c.output + "/" + c.loss;
    expect_gradients_match(mlp_config(c.hidden, c.output, c.loss, c.n_out, 0.003, 0.0, true), c.loss, what);
  }
  // l1 (away from zero weights, where |w| is differentiable) with biases regularized too.
  expect_gradients_match(mlp_config("tanh", "softmax", "mcxent", 3, 0.002, 0.001, true), "mcxent", "tanh, l1 + l2");
}

TEST_CASE(custom_cpp_activation_registered_by_name) {
  Json cfg = mlp_config("mysquare", "softmax", "mcxent", 3, 0.01);
  // Unknown until registered.
  if (!activation_registry<double>().contains("MYSQUARE"))
    CHECK_THROWS(Network<double>{cfg}, std::invalid_argument, "unknown activation \"mysquare\"");
  activation_registry<double>().add("MYSQUARE", [](const Json&) { return std::make_unique<MySquare>(); });
  CHECK(activation_registry<double>().contains("my_square"));  // lookup ignores case and '_'

  Network<double> net(cfg);
  CHECK_EQ(net.layer(0).activation()->name(), std::string("MYSQUARE"));
  CHECK_EQ(net.config().at("layers").as_array()[0].at("activation").at("name").as_string(), std::string("MYSQUARE"));

  // Its forward pass is really z^2.
  Json single = Json::parse(R"({"input_dim":2,"layers":[{"type":"Output","n_out":2,"activation":"MySquare",
                               "loss":"mse","weight_init":"ones","bias_init":0.5}]})");
  Network<double> square(single);
  Matrix<double> X(2, 1);
  X << 1.0, -3.0;
  const Matrix<double> out = helpers::predict(square, X);
  CHECK_NEAR(out(0, 0), 2.25, 1e-15);  // (1 - 3 + 0.5)^2
  CHECK_NEAR(out(1, 0), 2.25, 1e-15);

  expect_gradients_match(cfg, "mcxent", "mysquare -> softmax/mcxent, l2");

  // A model using it survives a save/load round trip in a process that registered it.
  helpers::TempDir dir;
  save_network(net, dir.file("square.enet"));
  auto loaded = load_network<double>(dir.file("square.enet"));
  CHECK(loaded->config() == net.config());
  CHECK(helpers::same_bits(Vector<double>(loaded->params()), Vector<double>(net.params())));
}

// ReLU as a user would write it without declaring it blockwise(): Dense layers then run it as a
// pass of its own after the product, the path every activation took before fusion.
class UnfusedRelu final : public Activation<float> {
 public:
  std::string name() const override { return "UNFUSEDRELU"; }
  std::unique_ptr<Activation<float>> clone() const override { return std::make_unique<UnfusedRelu>(*this); }
  void forward(ConstMatMap<float> z, MatMap<float> a, bool, Rng&) override { a.array() = z.array().max(0.0f); }
  void backward(ConstMatMap<float> z, ConstMatMap<float>, ConstMatMap<float> da, MatMap<float> dz) override {
    dz.array() = (z.array() > 0.0f).select(da.array(), 0.0f);
  }
};

TEST_CASE(blockwise_activations_give_every_block_the_values_of_the_whole_matrix) {
  // Values on both sides of every kink (0, 1, 6, the default ThresholdedReLU theta of 1).
  const Matrix<float> z = 8.0f * Matrix<float>::Random(37, 9);
  Rng rng(1);
  std::vector<std::string> blockwise;
  for (const std::string& name : activation_registry<float>().names()) {
    auto activation = make_activation<float>(Json(name));
    if (!activation->blockwise()) {
      Matrix<float> a(2, 2);
      CHECK_THROWS(activation->forward_block(ConstBlockMap<float>(z.data(), 2, 2, Eigen::OuterStride<>(37)),
                                             BlockMap<float>(a.data(), 2, 2, Eigen::OuterStride<>(2))),
                   std::logic_error, "not blockwise");
      continue;
    }
    blockwise.push_back(activation->name());
    Matrix<float> whole(37, 9);
    activation->forward(view(z), MatMap<float>(whole.data(), 37, 9), false, rng);
    struct Block {
      Index row, rows, col, cols;
    };
    // Unaligned starts, lengths with and without a scalar tail, one column and all of them.
    for (const Block b : {Block{0, 37, 0, 9}, Block{3, 17, 2, 4}, Block{16, 16, 0, 9}, Block{1, 1, 8, 1}}) {
      Matrix<float> out = Matrix<float>::Constant(37, 9, std::nanf(""));
      Matrix<float> in_place = z;
      const Eigen::OuterStride<> stride(37);
      activation->forward_block(ConstBlockMap<float>(z.data() + b.col * 37 + b.row, b.rows, b.cols, stride),
                                BlockMap<float>(out.data() + b.col * 37 + b.row, b.rows, b.cols, stride));
      activation->forward_block(ConstBlockMap<float>(in_place.data() + b.col * 37 + b.row, b.rows, b.cols, stride),
                                BlockMap<float>(in_place.data() + b.col * 37 + b.row, b.rows, b.cols, stride));
      const Matrix<float> expected = whole.block(b.row, b.col, b.rows, b.cols);
      CHECK(helpers::same_bits(Matrix<float>(out.block(b.row, b.col, b.rows, b.cols)), expected));
      CHECK(helpers::same_bits(Matrix<float>(in_place.block(b.row, b.col, b.rows, b.cols)), expected));
      // Nothing outside the block is written.
      out.block(b.row, b.col, b.rows, b.cols).setConstant(std::nanf(""));
      CHECK(out.array().isNaN().all());
    }
  }
  for (const char* name : {"IDENTITY", "RELU", "RELU6", "LEAKYRELU", "THRESHOLDEDRELU", "HARDTANH"})
    CHECK(std::find(blockwise.begin(), blockwise.end(), name) != blockwise.end());
  // Whatever rounds differently in a vectorized loop than in its scalar tail stays out.
  for (const char* name : {"SIGMOID", "TANH", "SOFTMAX", "RRELU", "ELU", "GELU"})
    CHECK(std::find(blockwise.begin(), blockwise.end(), name) == blockwise.end());
}

TEST_CASE(dense_layers_fused_with_their_activation_match_a_separate_activation_pass) {
  if (!activation_registry<float>().contains("UNFUSEDRELU"))
    activation_registry<float>().add("UNFUSEDRELU", [](const Json&) { return std::make_unique<UnfusedRelu>(); });
  // 300 x 200 x 120 multiply-adds: above the threshold where products are split across threads.
  auto config = [](const char* hidden) {
    return Json::parse(std::string(R"({"input_dim":300,"layers":[{"type":"Dense","n_out":200,"activation":")") + hidden +
                       R"("},{"type":"Dense","n_out":64,"activation":")" + hidden +
                       R"(","has_bias":false},{"type":"Output","n_out":5,"activation":"softmax","loss":"mcxent"}],
                       "updater":{"name":"adam","learning_rate":0.01},"seed":5})");
  };
  Network<float> fused(config("relu")), unfused(config("unfusedrelu"));
  CHECK(fused.layer(0).activation()->blockwise());
  CHECK(!unfused.layer(0).activation()->blockwise());
  unfused.params() = fused.params();
  const Matrix<float> X = Matrix<float>::Random(300, 120);
  Matrix<float> Y = Matrix<float>::Zero(5, 120);
  for (Index j = 0; j < 120; ++j) Y(j % 5, j) = 1.0f;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    CHECK(helpers::same_bits(helpers::predict(fused, X), helpers::predict(unfused, X)));
    // Training forward passes (they keep z apart from f(z)) and the steps that follow.
    fused.fit_epoch(view(X), view(Y), 40, false);
    unfused.fit_epoch(view(X), view(Y), 40, false);
    CHECK(helpers::same_bits(Vector<float>(fused.params()), Vector<float>(unfused.params())));
  }
  set_num_threads(1);
}

TEST_CASE(custom_cpp_loss_registered_by_name) {
  Json cfg = mlp_config("tanh", "identity", "myquartic", 2, 0.01);
  if (!loss_registry<double>().contains("MYQUARTIC"))
    CHECK_THROWS(Network<double>{cfg}, std::invalid_argument, "unknown loss \"myquartic\"");
  loss_registry<double>().add("MYQUARTIC", [](const Json&) { return std::make_unique<MyQuartic>(); });
  Network<double> net(cfg);
  CHECK_EQ(net.config().at("layers").as_array()[1].at("loss").at("name").as_string(), std::string("MYQUARTIC"));

  // The score is the batch mean of its per-sample losses, plus the penalty.
  Json plain = mlp_config("tanh", "identity", "myquartic", 2);
  Network<double> unregularized(plain);
  Rng data_rng(5);
  const Matrix<double> X = uniform_matrix<double>(4, 6, data_rng, -1.0, 1.0);
  const Matrix<double> Y = uniform_matrix<double>(2, 6, data_rng, -1.0, 1.0);
  const Matrix<double> out = helpers::predict(unregularized, X);
  const double expected = (out - Y).array().pow(4).sum() / 6.0;
  CHECK_NEAR(unregularized.score(ConstMatMap<double>(X.data(), 4, 6), ConstMatMap<double>(Y.data(), 2, 6)), expected,
             1e-12);

  expect_gradients_match(cfg, "myquartic", "tanh -> identity/myquartic (C++ custom loss), l2");
}

TEST_CASE(xor_trains_to_full_accuracy) {
  const Json cfg = Json::parse(R"({"input_dim":2,"layers":[{"type":"Dense","n_out":8,"activation":"tanh"},
      {"type":"Output","n_out":2,"activation":"softmax","loss":"mcxent"}],"updater":{"name":"adam","learning_rate":0.05},
      "seed":1})");
  Matrix<double> X(2, 4);
  X << 0, 0, 1, 1,  //
      0, 1, 0, 1;
  const std::vector<int> labels = {0, 1, 1, 0};
  const Matrix<double> Y = one_hot<double>(labels, 2);

  Network<double> net(cfg), twin(cfg);
  const double first = net.fit_epoch(view(X), view(Y), 4, true);
  double last = first;
  for (int epoch = 1; epoch < 300; ++epoch) last = net.fit_epoch(view(X), view(Y), 4, true);
  for (int epoch = 0; epoch < 300; ++epoch) twin.fit_epoch(view(X), view(Y), 4, true);
  CHECK_MSG(last < 0.05 && last < first, "loss went from " << first << " to " << last);
  CHECK_EQ(net.epoch(), std::int64_t(300));
  CHECK_EQ(net.updater().iteration(), std::int64_t(300));

  const Matrix<double> out = helpers::predict(net, X);
  int correct = 0;
  for (Index j = 0; j < 4; ++j) correct += argmax(out, j) == labels[static_cast<std::size_t>(j)];
  CHECK_EQ(correct, 4);
  // Same seed, same data: bit-identical training.
  CHECK(helpers::same_bits(Vector<double>(net.params()), Vector<double>(twin.params())));

  // Single precision learns it too, with online (batch 1) updates.
  Network<float> small(cfg);
  const Matrix<float> Xf = X.cast<float>(), Yf = Y.cast<float>();
  for (int epoch = 0; epoch < 150; ++epoch) small.fit_epoch(view(Xf), view(Yf), 1, true);
  Matrix<float> outf(2, 4);
  small.predict(view(Xf), MatMap<float>(outf.data(), 2, 4));
  const Matrix<double> outd = outf.cast<double>();
  correct = 0;
  for (Index j = 0; j < 4; ++j) correct += argmax(outd, j) == labels[static_cast<std::size_t>(j)];
  CHECK_EQ(correct, 4);
}

TEST_CASE(bad_configs_throw_invalid_argument_with_helpful_messages) {
  auto with_hidden = [](const std::string& key, Json value) {
    Json cfg = mlp_config("tanh", "softmax", "mcxent", 3);
    Json layers = cfg.at("layers");
    Json::Array list = layers.as_array();
    list[0].set(key, std::move(value));
    cfg.set("layers", Json(list));
    return cfg;
  };
  auto with_output = [](const std::string& key, Json value) {
    Json cfg = mlp_config("tanh", "softmax", "mcxent", 3);
    Json::Array list = cfg.at("layers").as_array();
    list[1].set(key, std::move(value));
    cfg.set("layers", Json(list));
    return cfg;
  };
  auto build = [](const Json& cfg) { return Network<double>(cfg).num_params(); };

  CHECK_THROWS(build(with_hidden("activation", "tanhh")), std::invalid_argument,
               "unknown activation \"tanhh\"; did you mean \"TANH\"?");
  CHECK_THROWS(build(with_hidden("activation", "no_such_thing_at_all")), std::invalid_argument,
               "unknown activation \"no_such_thing_at_all\"");
  CHECK_THROWS(build(with_output("loss", "mcxnet")), std::invalid_argument,
               "unknown loss \"mcxnet\"; did you mean \"MCXENT\"?");
  CHECK_THROWS(build(with_hidden("n_out", 0)), std::invalid_argument, "n_out must be in [1, 2^31], got 0");
  CHECK_THROWS(build(with_output("n_out", -3)), std::invalid_argument, "got -3");
  CHECK_THROWS(build(with_hidden("type", "Dens")), std::invalid_argument,
               "unknown layer type \"Dens\"; did you mean \"Dense\"?");
  CHECK_THROWS(build(with_hidden("n_in", 7)), std::invalid_argument, "declared n_in 7 but the previous layer gives 4");

  Json cfg = mlp_config("tanh", "softmax", "mcxent", 3);
  cfg.set("updater", "adamm");
  CHECK_THROWS(build(cfg), std::invalid_argument, "unknown updater \"adamm\"; did you mean");
  cfg.set("updater", Json::parse(R"({"name":"adam","learning_rat":0.1})"));
  CHECK_THROWS(build(cfg), std::invalid_argument, "unknown hyperparameter \"learning_rat\"");
  cfg.set("updater", Json::parse(R"({"name":"sgd","learning_rate":-1})"));
  CHECK_THROWS(build(cfg), std::invalid_argument, "learning_rate");

  cfg = mlp_config("tanh", "softmax", "mcxent", 3);
  cfg.set("input_dim", 0);
  CHECK_THROWS(build(cfg), std::invalid_argument, "input_dim must be in [1, 2^31], got 0");
  cfg = mlp_config("tanh", "softmax", "mcxent", 3);
  cfg.set("l2", -0.5);
  CHECK_THROWS(build(cfg), std::invalid_argument, "l2 must be finite and >= 0");
  cfg = mlp_config("tanh", "softmax", "mcxent", 3);
  cfg.set("layers", Json::array());
  CHECK_THROWS(build(cfg), std::invalid_argument, "at least one layer");
  cfg = Json::parse(R"({"input_dim":3,"layers":[{"type":"Output","n_out":2,"activation":"softmax"}]})");
  CHECK_THROWS(build(cfg), std::invalid_argument, "Output layer needs a loss");
  cfg = Json::parse(R"({"input_dim":3,"layers":[{"type":"Output","n_out":2,"loss":"mse"},{"type":"Dense","n_out":2}]})");
  CHECK_THROWS(build(cfg), std::invalid_argument, "has a loss but is not the last layer");

  // Data that does not fit the network is refused before training touches anything.
  Network<double> net(mlp_config("tanh", "softmax", "mcxent", 3));
  const Vector<double> before = net.params();
  Rng rng(2);
  const Matrix<double> X = uniform_matrix<double>(3, 4, rng);
  const Matrix<double> Y = one_hot<double>({0, 1, 2, 0}, 3);
  CHECK_THROWS(net.fit_epoch(view(X), view(Y), 2, true), std::invalid_argument, "X has 3 features, expected 4");
  Matrix<double> X4 = uniform_matrix<double>(4, 4, rng);
  X4(1, 2) = std::nan("");
  CHECK_THROWS(net.fit_epoch(view(X4), view(Y), 2, true), std::invalid_argument, "NaN");
  X4(1, 2) = 0;
  CHECK_THROWS(net.fit_epoch(view(X4), view(Y), 0, true), std::invalid_argument, "batch_size must be >= 1");
  CHECK(helpers::same_bits(Vector<double>(net.params()), before));
  CHECK_EQ(net.epoch(), std::int64_t(0));
}

int main(int argc, char** argv) { return check::run(argc, argv); }
