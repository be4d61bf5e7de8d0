// A layer type defined outside the core and registered with register_layer_type (the example of
// docs/guide.md, "Custom layers"): gradients, training, save/load, and registration errors.
#include <algorithm>
#include <cmath>
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

// out = s * in per feature, with a learnable scale s (n_in,) that starts at "init" (default 1).
template <typename T>
class Scale final : public Layer<T> {
 public:
  Scale(const Json& config, Index n_in, const std::string& where) {
    this->n_in_ = n_in;
    this->n_out_ = n_in;
    init_ = config.number_or("init", 1.0);
    EIGENNET_REQUIRE(std::isfinite(init_), where + ": init must be finite");
  }
  std::string type() const override { return "Scale"; }  // the registered name
  std::vector<ParamInfo> param_info() const override {
    return {{"s", 0, this->n_in_, 1, /*is_bias=*/true}};  // a vector, like a bias
  }
  void bind(T* params, T* grads) override {
    s_ = params;
    ds_ = grads;
  }
  void init(Rng&) override { VecMap<T>(s_, this->n_in_).setConstant(static_cast<T>(init_)); }
  void forward(ConstMatMap<T> in, MatMap<T> out, Mode, Rng&) override { infer(in, out); }
  void infer(ConstMatMap<T> in, MatMap<T> out) const override { out = scale().asDiagonal() * in; }
  void backward(ConstMatMap<T> in, ConstMatMap<T>, MatMap<T> dout, MatMap<T>* din) override {
    if (!this->frozen()) VecMap<T>(ds_, this->n_in_) = (dout.array() * in.array()).rowwise().sum();
    if (din) *din = scale().asDiagonal() * dout;
  }
  Json config() const override {
    Json c = this->common_config();  // type, n_in, n_out
    c.set("init", init_);
    return c;
  }

 private:
  ConstVecMap<T> scale() const { return ConstVecMap<T>(s_, this->n_in_); }
  double init_ = 1.0;
  T* s_ = nullptr;
  T* ds_ = nullptr;
};

template <typename T>
void register_scale() {
  register_layer_type<T>("Scale", [](const Json& config, Index n_in, const std::string& where) {
    return std::make_unique<Scale<T>>(config, n_in, where);
  });
}

Json network_config(double init) {
  Json cfg = Json::parse(R"({"input_dim": 4, "seed": 5, "updater": {"name": "adam", "learning_rate": 0.05},
    "layers": [{"type": "Dense", "n_out": 5, "activation": "tanh"},
               {"type": "Scale"},
               {"type": "Output", "n_out": 3, "activation": "softmax", "loss": "mcxent"}]})");
  Json::Array layers = cfg.at("layers").as_array();
  layers[1].set("init", init);
  cfg.set("layers", Json(layers));
  return cfg;
}

}  // namespace

TEST_CASE(registered_layer_builds_and_passes_the_gradient_check) {
  register_scale<double>();
  Network<double> net(network_config(1.5));
  CHECK_EQ(net.layer(1).type(), std::string("Scale"));
  CHECK_EQ(net.num_params(), Index(4 * 5 + 5 + 5 + 5 * 3 + 3));
  const auto& s = net.find_param(1, "s");
  CHECK(s.is_bias && s.rows == 5 && s.cols == 1);
  CHECK_EQ(net.params()[s.offset], 1.5);
  Rng rng(3);
  const Matrix<double> X = uniform_matrix<double>(4, 9, rng);
  const Matrix<double> Y = one_hot<double>({0, 1, 2, 0, 1, 2, 0, 1, 2}, 3);
  const auto result = gradient_check(net, X, Y);
  CHECK(result.checked > 30);
  CHECK(result.worst_relative < 1e-6);
  net.compute_gradients(view(X), view(Y));
  CHECK(net.gradients().segment(s.offset, 5).cwiseAbs().maxCoeff() > 1e-4);
}

TEST_CASE(registered_layer_trains_saves_and_loads) {
  register_scale<float>();
  helpers::TempDir dir;
  Network<float> net(network_config(0.5));
  Rng rng(4);
  const Matrix<float> X = uniform_matrix<float>(4, 60, rng);
  std::vector<int> labels;
  for (Index j = 0; j < X.cols(); ++j) labels.push_back(X(0, j) > 0.3f ? 2 : (X(1, j) > 0 ? 1 : 0));
  const Matrix<float> Y = one_hot<float>(labels, 3);
  const float before = net.score(view(X), view(Y));
  for (int epoch = 0; epoch < 20; ++epoch) net.fit_epoch(view(X), view(Y), 10, true);
  CHECK(net.score(view(X), view(Y)) < 0.7f * before);
  const std::string path = dir.file("scale.enet");
  save_network(net, path);
  auto loaded = load_network<float>(path);
  CHECK(helpers::same_bits(helpers::predict(*loaded, X), helpers::predict(net, X)));
  CHECK_EQ(loaded->layer(1).config().at("init").as_number(), 0.5);
}

TEST_CASE(registration_errors) {
  auto factory = [](const Json& config, Index n_in, const std::string& where) -> std::unique_ptr<Layer<double>> {
    return std::make_unique<Scale<double>>(config, n_in, where);
  };
  CHECK_THROWS(register_layer_type<double>("dense", factory), std::invalid_argument,
               "is the name of the built-in layer type Dense");
  CHECK_THROWS(register_layer_type<double>("Scale2", LayerFactory<double>()), std::invalid_argument,
               "the factory is empty");
  register_scale<double>();
  Json cfg = network_config(1.0);
  Json::Array layers = cfg.at("layers").as_array();
  layers[1].set("type", "Scal");
  cfg.set("layers", Json(layers));
  CHECK_THROWS(Network<double>{cfg}, std::invalid_argument, "unknown layer type \"Scal\"; did you mean \"Scale\"?");
  const auto names = layer_type_names<double>();
  CHECK(std::find(names.begin(), names.end(), "Scale") != names.end());
}

int main(int argc, char** argv) { return check::run(argc, argv); }
