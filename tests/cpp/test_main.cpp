#include <eigennet/eigennet.hpp>
#include <iostream>
int main() {
  using namespace eigennet;
  Json cfg = Json::parse(R"({"input_dim":2,"layers":[{"type":"Dense","n_out":8,"activation":"tanh"},{"type":"Output","n_out":2,"activation":"softmax","loss":"mcxent"}],"updater":{"name":"adam","learning_rate":0.05},"seed":1})");
  Network<double> net(cfg);
  std::cout << net.config().dump() << "\n" << net.num_params() << "\n";
  return 0;
}
