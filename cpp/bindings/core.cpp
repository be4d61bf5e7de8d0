// pybind11 bindings: conversion, validation of what crosses the boundary, and GIL handling.
// No training logic lives here.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <eigennet/eigennet.hpp>

namespace py = pybind11;
using namespace eigennet;

namespace {

template <typename T>
using InputArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// A C-contiguous (n, d) array is a column-major (d x n) matrix: map it without copying.
template <typename T>
ConstMatMap<T> as_columns(const InputArray<T>& a, const char* what) {
  if (a.ndim() != 2) throw std::invalid_argument(std::string(what) + " must be 2-D, got " + std::to_string(a.ndim()) + "-D");
  return ConstMatMap<T>(a.data(), a.shape(1), a.shape(0));
}

template <typename T>
py::array_t<T> to_numpy(const T* data, std::vector<py::ssize_t> shape) {
  py::array_t<T> out(shape);
  std::size_t count = 1;
  for (auto d : shape) count *= static_cast<std::size_t>(d);
  std::copy(data, data + count, out.mutable_data());
  return out;
}

// Biases are vectors (n_out,); weights are (n_in, n_out) even when n_in is 1.
std::vector<py::ssize_t> param_shape(const ParamLocation& loc) {
  if (loc.is_bias) return {loc.rows};
  return {loc.cols, loc.rows};
}

// Polls for Ctrl-C from inside a long C++ loop.
bool python_signal_pending() {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  return false;
}

// A Python callable shared between C++ objects that may be copied without the GIL (the registry
// copies factories while loading a model with the GIL released): shared_ptr copies are atomic,
// and the last owner takes the GIL to drop the reference.
using SharedCallable = std::shared_ptr<py::object>;

SharedCallable share(py::object fn) {
  return SharedCallable(new py::object(std::move(fn)), [](py::object* p) {
    py::gil_scoped_acquire gil;
    delete p;
  });
}

// A Python-defined activation: forward(z) -> a and backward(z, a, da) -> dz on (n, width) arrays.
template <typename T>
class PythonActivation final : public Activation<T> {
 public:
  PythonActivation(std::string name, SharedCallable forward, SharedCallable backward)
      : name_(std::move(name)), forward_(std::move(forward)), backward_(std::move(backward)) {}
  std::string name() const override { return name_; }
  std::unique_ptr<Activation<T>> clone() const override {
    return std::make_unique<PythonActivation>(name_, forward_, backward_);
  }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    py::gil_scoped_acquire gil;
    auto result = call(*forward_, {z});
    copy_result(result, a, "forward");
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> da, MatMap<T> dz) override {
    py::gil_scoped_acquire gil;
    auto result = call(*backward_, {z, a, da});
    copy_result(result, dz, "backward");
  }

 private:
  static py::object call(const py::object& fn, std::initializer_list<ConstMatMap<T>> args) {
    py::tuple arrays(args.size());
    std::size_t i = 0;
    for (const auto& m : args) arrays[i++] = to_numpy<T>(m.data(), {m.cols(), m.rows()});
    return fn(*arrays);
  }
  void copy_result(const py::object& result, MatMap<T> out, const char* what) const {
    auto array = InputArray<T>::ensure(result);
    if (!array) throw std::invalid_argument("activation " + name_ + "." + what + " must return an array");
    if (array.ndim() != 2 || array.shape(0) != out.cols() || array.shape(1) != out.rows())
      throw std::invalid_argument("activation " + name_ + "." + what + " returned shape " +
                                  py::str(py::tuple(py::cast(std::vector<py::ssize_t>(array.shape(), array.shape() + array.ndim())))).cast<std::string>() +
                                  ", expected (" + std::to_string(out.cols()) + ", " + std::to_string(out.rows()) + ")");
    std::copy(array.data(), array.data() + out.size(), out.data());
    if (!out.allFinite()) throw std::invalid_argument("activation " + name_ + "." + what + " returned NaN or infinity");
  }
  std::string name_;
  SharedCallable forward_, backward_;
};

// A Python-defined loss: loss(output, labels) -> (n,) per-sample losses and
// gradient(output, labels) -> (n, width) derivative of each sample's loss by its output.
template <typename T>
class PythonLoss final : public Loss<T> {
 public:
  PythonLoss(std::string name, SharedCallable value, SharedCallable gradient)
      : name_(std::move(name)), value_(std::move(value)), gradient_(std::move(gradient)) {}
  std::string name() const override { return name_; }
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<PythonLoss>(name_, value_, gradient_); }
  // The Python function returns whole per-sample losses, so per-output weights cannot be applied.
  bool supports_output_weights() const override { return false; }

 protected:
  void sample_losses(ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>&,
                     Eigen::Ref<Vector<T>> out) const override {
    py::gil_scoped_acquire gil;
    py::object result = (*value_)(to_numpy<T>(a.data(), {a.cols(), a.rows()}), to_numpy<T>(y.data(), {y.cols(), y.rows()}));
    auto array = InputArray<T>::ensure(result);
    if (!array || array.ndim() != 1 || array.shape(0) != a.cols())
      throw std::invalid_argument("loss " + name_ + " must return one value per sample, shape (" + std::to_string(a.cols()) + ",)");
    std::copy(array.data(), array.data() + a.cols(), out.data());
  }
  T total_loss(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>& act) const override {
    Vector<T> per_sample(a.cols());
    sample_losses(z, a, y, act, per_sample);
    return per_sample.sum();
  }
  void output_gradient(ConstMatMap<T> a, ConstMatMap<T> y, MatMap<T> da) const override {
    py::gil_scoped_acquire gil;
    py::object result = (*gradient_)(to_numpy<T>(a.data(), {a.cols(), a.rows()}), to_numpy<T>(y.data(), {y.cols(), y.rows()}));
    auto array = InputArray<T>::ensure(result);
    if (!array || array.ndim() != 2 || array.shape(0) != a.cols() || array.shape(1) != a.rows())
      throw std::invalid_argument("loss " + name_ + " gradient must have shape (" + std::to_string(a.cols()) + ", " +
                                  std::to_string(a.rows()) + ")");
    std::copy(array.data(), array.data() + da.size(), da.data());
  }

 private:
  std::string name_;
  SharedCallable value_, gradient_;
};

template <typename T>
void bind_network(py::module_& m, const char* class_name) {
  using Net = Network<T>;
  py::class_<Net>(m, class_name)
      .def(py::init([](const std::string& config) { return std::make_unique<Net>(Json::parse(config)); }),
           py::arg("config"))
      .def("config", [](const Net& n) { return n.config().dump(); })
      .def_property_readonly("num_params", &Net::num_params)
      .def_property_readonly("input_dim", &Net::input_dim)
      .def_property_readonly("output_dim", &Net::output_dim)
      .def_property_readonly("label_rows", &Net::label_rows)
      .def_property_readonly("num_layers", &Net::num_layers)
      .def_property("iteration", [](const Net& n) { return n.updater().iteration(); },
                    [](Net& n, std::int64_t t) { n.updater().set_iteration(t); })
      .def_property("epoch", &Net::epoch, &Net::set_epoch)
      .def("layer_config", [](const Net& n, std::size_t i) {
        if (i >= n.num_layers()) throw py::index_error("layer index out of range");
        return n.layer(i).config().dump();
      })
      .def("params", [](const Net& n) { return to_numpy<T>(n.params().data(), {n.num_params()}); })
      .def("set_params",
           [](Net& n, const InputArray<T>& values) {
             if (values.ndim() != 1 || values.shape(0) != n.num_params())
               throw std::invalid_argument("params must be a 1-D array of length " + std::to_string(n.num_params()));
             ConstVecMap<T> v(values.data(), values.shape(0));
             if (!v.allFinite()) throw std::invalid_argument("params contain NaN or infinity");
             n.params() = v;
           })
      .def("gradients", [](const Net& n) { return to_numpy<T>(n.gradients().data(), {n.num_params()}); })
      .def("param_locations",
           [](const Net& n) {
             py::list out;
             for (const auto& loc : n.param_locations()) {
               py::dict d;
               d["layer"] = loc.layer;
               d["name"] = loc.name;
               d["offset"] = loc.offset;
               d["shape"] = py::tuple(py::cast(param_shape(loc)));
               d["is_bias"] = loc.is_bias;
               d["trainable"] = loc.trainable;
               out.append(d);
             }
             return out;
           })
      .def("get_param",
           [](const Net& n, std::size_t layer, const std::string& name) {
             const auto& loc = n.find_param(layer, name);
             return to_numpy<T>(n.params().data() + loc.offset, param_shape(loc));
           })
      .def("set_param",
           [](Net& n, std::size_t layer, const std::string& name, const InputArray<T>& value) {
             const auto& loc = n.find_param(layer, name);
             const auto shape = param_shape(loc);
             bool same = value.ndim() == static_cast<py::ssize_t>(shape.size());
             for (std::size_t i = 0; same && i < shape.size(); ++i) same = value.shape(i) == shape[i];
             if (!same) {
               std::string expected, got;
               for (auto d : shape) expected += (expected.empty() ? "" : ", ") + std::to_string(d);
               for (py::ssize_t i = 0; i < value.ndim(); ++i) got += (got.empty() ? "" : ", ") + std::to_string(value.shape(i));
               throw std::invalid_argument("layer " + std::to_string(layer) + " parameter " + name + " has shape (" +
                                           expected + "), got (" + got + ")");
             }
             ConstVecMap<T> v(value.data(), loc.rows * loc.cols);
             if (!v.allFinite()) throw std::invalid_argument("parameter values contain NaN or infinity");
             n.params().segment(loc.offset, loc.rows * loc.cols) = v;
           })
      .def("predict",
           [](const Net& n, const InputArray<T>& X) {
             auto x = as_columns<T>(X, "X");
             py::array_t<T> out({static_cast<py::ssize_t>(x.cols()), static_cast<py::ssize_t>(n.output_dim())});
             MatMap<T> o(out.mutable_data(), n.output_dim(), x.cols());
             {
               py::gil_scoped_release release;
               n.predict(x, o);
             }
             return out;
           })
      .def("fit_epoch",
           [](Net& n, const InputArray<T>& X, const InputArray<T>& Y, Index batch_size, bool shuffle) {
             auto x = as_columns<T>(X, "X");
             auto y = as_columns<T>(Y, "y");
             py::gil_scoped_release release;
             return n.fit_epoch(x, y, batch_size, shuffle, python_signal_pending);
           },
           py::arg("X"), py::arg("Y"), py::arg("batch_size"), py::arg("shuffle"))
      .def("score",
           [](Net& n, const InputArray<T>& X, const InputArray<T>& Y) {
             auto x = as_columns<T>(X, "X");
             auto y = as_columns<T>(Y, "y");
             py::gil_scoped_release release;
             return n.score(x, y);
           })
      .def("score_per_sample",
           [](Net& n, const InputArray<T>& X, const InputArray<T>& Y) {
             auto x = as_columns<T>(X, "X");
             auto y = as_columns<T>(Y, "y");
             py::array_t<T> out(static_cast<py::ssize_t>(x.cols()));
             {
               py::gil_scoped_release release;
               Eigen::Map<Vector<T>> o(out.mutable_data(), x.cols());
               Vector<T> tmp(x.cols());
               n.score_per_sample(x, y, tmp);
               o = tmp;
             }
             return out;
           })
      .def("compute_gradients",
           [](Net& n, const InputArray<T>& X, const InputArray<T>& Y) {
             auto x = as_columns<T>(X, "X");
             auto y = as_columns<T>(Y, "y");
             T score;
             {
               py::gil_scoped_release release;
               score = n.compute_gradients(x, y);
             }
             return py::make_tuple(score, to_numpy<T>(n.gradients().data(), {n.num_params()}));
           })
      .def("updater_config", [](const Net& n) { return n.updater().config().dump(); })
      .def("set_updater", [](Net& n, const std::string& config) { n.set_updater(Json::parse(config)); })
      .def("updater_state",
           [](const Net& n) {
             py::dict out;
             const auto names = n.updater().state_names();
             for (std::size_t i = 0; i < names.size(); ++i)
               out[py::str(names[i])] = to_numpy<T>(n.updater().state()[i].data(), {n.num_params()});
             return out;
           })
      .def("save",
           [](const Net& n, const std::string& path, const std::string& extra) {
             Json extra_json = Json::parse(extra);
             py::gil_scoped_release release;
             save_network<T>(n, path, extra_json);
           })
      .def_static("load", [](const std::string& path) {
        Json extra;
        std::unique_ptr<Net> net;
        {
          py::gil_scoped_release release;
          net = load_network<T>(path, &extra);
        }
        return py::make_tuple(std::move(net), extra.dump());
      });
}

template <typename T>
void register_python_activation(const std::string& name, SharedCallable forward, SharedCallable backward) {
  activation_registry<T>().add(name, [name, forward, backward](const Json&) {
    return std::make_unique<PythonActivation<T>>(name, forward, backward);
  });
}

template <typename T>
void register_python_loss(const std::string& name, SharedCallable value, SharedCallable gradient) {
  loss_registry<T>().add(name, [name, value, gradient](const Json&) {
    return std::make_unique<PythonLoss<T>>(name, value, gradient);
  });
}

}  // namespace

// Built once per instruction-set level as _core_<level>; python/eigennet/_core.py picks one.
#ifndef EIGENNET_MODULE_NAME
#define EIGENNET_MODULE_NAME _core
#endif

PYBIND11_MODULE(EIGENNET_MODULE_NAME, m) {
  m.doc() = "eigennet C++ core (private; use the eigennet package)";
  static py::exception<FormatError> format_error(m, "FormatError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FormatError& e) {
      PyErr_SetString(format_error.ptr(), e.what());
    } catch (const Interrupted& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    }
  });

  bind_network<float>(m, "NetworkF32");
  bind_network<double>(m, "NetworkF64");

  m.def("build_info", [] {
    py::dict info;
    info["eigen_version"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                            std::to_string(EIGEN_MINOR_VERSION);
    info["simd"] = std::string(Eigen::SimdInstructionSetsInUse());
    info["openmp"] = has_openmp();
    info["compiler"] = std::string(__VERSION__);
    return info;
  });
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &get_num_threads);
  m.def("has_openmp", &has_openmp);
  m.def("activation_names", [] { return activation_registry<double>().names(); });
  m.def("loss_names", [] { return loss_registry<double>().names(); });
  m.def("updater_names", &updater_names);
  m.def("canonical_weight_init", [](const std::string& spec) { return canonical_weight_init(Json::parse(spec)).dump(); });
  m.def("canonical_activation", [](const std::string& spec) { return make_activation<double>(Json::parse(spec))->config().dump(); });
  m.def("canonical_loss", [](const std::string& spec) { return make_loss<double>(Json::parse(spec))->config().dump(); });
  m.def("canonical_updater", [](const std::string& spec) { return make_updater<double>(Json::parse(spec))->config().dump(); });
  m.def("model_dtype", &model_dtype, py::arg("path"));
  m.def("read_model_header", [](const std::string& path) { return read_model_header(path).dump(); }, py::arg("path"));
  m.def("register_activation",
        [](const std::string& name, py::object forward, py::object backward) {
          auto f = share(std::move(forward)), b = share(std::move(backward));
          register_python_activation<float>(name, f, b);
          register_python_activation<double>(name, f, b);
        });
  m.def("register_loss", [](const std::string& name, py::object value, py::object gradient) {
    auto v = share(std::move(value)), g = share(std::move(gradient));
    register_python_loss<float>(name, v, g);
    register_python_loss<double>(name, v, g);
  });
}
