// Heap allocations during training, counted by interposing malloc (glibc) in this executable.
//
// Once a network has trained one epoch (buffers sized for its batch), further epochs must not touch
// the heap at all: every buffer is preallocated, small products pack on the stack inside Eigen, and
// large ones pack into per-thread buffers that only grow (multiply() in product.hpp).
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <eigennet/eigennet.hpp>

#include "allocation_counter.hpp"
#include "check.hpp"
#include "helpers.hpp"

#if !defined(EIGENNET_COUNT_ALLOCATIONS)
#error "test_alloc counts allocations by interposing glibc's malloc (not under AddressSanitizer)"
#endif

using namespace eigennet;
using helpers::one_hot;
using helpers::uniform_matrix;

namespace {

Json network(int input, int hidden, int outputs) {
  Json cfg = Json::parse(R"({"layers":[{"type":"Dense","activation":"relu"},{"type":"Dense","activation":"relu"},
      {"type":"Output","activation":"softmax","loss":"mcxent"}],"updater":{"name":"adam"},"l2":1e-4,"seed":3})");
  cfg.set("input_dim", input);
  Json layers = cfg.at("layers");
  Json::Array items = layers.as_array();
  items[0].set("n_out", hidden);
  items[1].set("n_out", hidden);
  items[2].set("n_out", outputs);
  cfg.set("layers", Json(items));
  return cfg;
}

long allocations_in_second_epoch(const Json& cfg, Index n, Index batch, bool shuffle) {
  Network<float> net(cfg);
  Rng rng(11);
  const Matrix<float> X = uniform_matrix<float>(net.input_dim(), n, rng);
  std::vector<int> labels;
  for (Index j = 0; j < n; ++j) labels.push_back(static_cast<int>(rng.below(static_cast<std::uint64_t>(net.output_dim()))));
  const Matrix<float> Y = one_hot<float>(labels, net.output_dim());
  ConstMatMap<float> x(X.data(), X.rows(), X.cols()), y(Y.data(), Y.rows(), Y.cols());
  net.fit_epoch(x, y, batch, shuffle);  // sizes the buffers
  allocations.store(0);
  counting.store(true);
  net.fit_epoch(x, y, batch, shuffle);
  counting.store(false);
  return allocations.load();
}

}  // namespace

TEST_CASE(small_network_epochs_do_not_allocate) {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (bool shuffle : {false, true}) {
      const long count = allocations_in_second_epoch(network(20, 64, 2), 4096, 32, shuffle);
      std::printf("  20-64-64-2, batch 32, %d thread(s), shuffle=%d: %ld allocations in 128 steps\n", threads,
                  shuffle ? 1 : 0, count);
      CHECK_EQ(count, 0L);
    }
  }
  set_num_threads(1);
}

TEST_CASE(updates_split_across_threads_do_not_allocate) {
  // 20-128-128-128-128-128-2: 69,506 parameters, so at 2 threads the Adam step is split across
  // threads, while every product stays on the calling thread and small enough (128 x 128 weights)
  // for Eigen's packing buffers to live on the stack.
  const Json cfg = Json::parse(R"({"input_dim":20,"layers":[
      {"type":"Dense","n_out":128,"activation":"relu"},{"type":"Dense","n_out":128,"activation":"relu"},
      {"type":"Dense","n_out":128,"activation":"relu"},{"type":"Dense","n_out":128,"activation":"relu"},
      {"type":"Dense","n_out":128,"activation":"relu"},{"type":"Output","n_out":2,"activation":"softmax","loss":"mcxent"}],
      "updater":{"name":"adam"},"seed":3})");
  CHECK(Network<float>(cfg).num_params() > kParallelElements);
  set_num_threads(2);
  const long count = allocations_in_second_epoch(cfg, 4096, 32, true);
  std::printf("  20-128x5-2, batch 32, 2 threads: %ld allocations in 128 steps\n", count);
  CHECK_EQ(count, 0L);
  set_num_threads(1);
}

TEST_CASE(regularizing_and_unsupervised_layers_do_not_allocate_per_step) {
  // Every stochastic or stateful layer of issue #4 in one small network, with gradient
  // normalization and a schedule: masks, noise and statistics live in buffers sized once.
  Json cfg = Json::parse(R"({"input_dim":20,"layers":[
      {"type":"Dense","n_out":32,"activation":"selu","dropout":0.2,"weight_dropout":0.1},
      {"type":"AlphaDropout","rate":0.1},
      {"type":"BatchNormalization"},
      {"type":"GaussianNoise","stddev":0.1},
      {"type":"Dropout","rate":0.3},
      {"type":"GaussianDropout","rate":0.2},
      {"type":"AutoEncoder","n_out":16,"activation":"sigmoid","corruption_level":0.2},
      {"type":"RBM","n_out":12},
      {"type":"Output","n_out":3,"activation":"softmax","loss":"mcxent"}],
      "updater":{"name":"adam","learning_rate":{"name":"exponential","initial_value":0.01,"gamma":0.999}},
      "gradient_normalization":{"name":"ClipL2PerLayer","threshold":1.0},"l2":1e-4,"seed":5})");
  set_num_threads(1);
  for (bool shuffle : {false, true}) {
    const long count = allocations_in_second_epoch(cfg, 2048, 32, shuffle);
    std::printf("  dropout/batch-norm/noise/autoencoder/RBM network, shuffle=%d: %ld allocations in 64 steps\n",
                shuffle ? 1 : 0, count);
    CHECK_EQ(count, 0L);
  }
}

TEST_CASE(large_products_do_not_allocate_per_step) {
  // 784-512-512-10 at batch 128: products far above Eigen's 128 KB stack limit for packing buffers,
  // at 1 and 2 threads. multiply() packs into buffers that grow once per thread and then stay.
  const long steps = 8;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    const long count = allocations_in_second_epoch(network(784, 512, 10), 128 * steps, 128, true);
    std::printf("  784-512-512-10, batch 128, %d thread(s): %ld allocations in %ld steps\n", threads, count, steps);
    CHECK_EQ(count, 0L);
  }
  set_num_threads(1);
}

int main(int argc, char** argv) { return check::run(argc, argv); }
