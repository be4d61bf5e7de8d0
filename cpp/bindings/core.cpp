// pybind11 bindings: conversion, validation of what crosses the boundary, and GIL handling.
// No training logic lives here.
#include <algorithm>
#include <optional>

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

// The network's output for the samples in x, as an (n, output_dim) array. The GIL is released
// unless the work is too small to pay for releasing and retaking it (about 0.1 us).
template <typename T>
py::array_t<T> predict_array(const Network<T>& n, ConstMatMap<T> x) {
  py::array_t<T> out({static_cast<py::ssize_t>(x.cols()), static_cast<py::ssize_t>(n.output_dim())});
  MatMap<T> o(out.mutable_data(), n.output_dim(), x.cols());
  std::optional<py::gil_scoped_release> release;
  if (static_cast<double>(n.num_params()) * static_cast<double>(x.cols()) >= 16384) release.emplace();
  n.predict(x, o);
  return out;
}

// Polls for Ctrl-C from inside a long C++ loop.
bool python_signal_pending() {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  return false;
}

// A Python object shared between C++ objects that may be copied without the GIL (the registry
// copies factories while loading a model with the GIL released): shared_ptr copies are atomic,
// and the last owner takes the GIL to drop the reference. A registry destroyed at process exit
// may be the last owner after the interpreter is gone: then there is nothing left to drop.
using SharedCallable = std::shared_ptr<py::object>;

SharedCallable share(py::object object) {
  return SharedCallable(new py::object(std::move(object)), [](py::object* p) {
    if (Py_IsInitialized()) {
      py::gil_scoped_acquire gil;
      delete p;
    } else {
      p->release();
      delete p;
    }
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

// A layer written in Python: an instance of a subclass of eigennet.CustomLayer, whose methods
// initialize(params, rng), forward(x, params, training) -> y and backward(x, y, dy, params) ->
// (dx, {name: gradient}) this class calls with the GIL taken. Arrays are (batch, width), the
// C-order view of the column-major batches (as for PythonActivation); x, y and dy are copies.
// The parameters live in the network's flat buffers like every layer's. Python sees them as NumPy
// arrays viewing that memory, made afresh for each call: writable in initialize, read-only in
// forward and backward. They are valid only during the call (the network, and its memory, may be
// gone afterwards), so a method that returns while a view (or a view derived from one) is still
// referenced raises ValueError; a method that raises leaves its traceback holding its locals, so
// do not keep such a traceback beyond the model's lifetime.
template <typename T>
class PythonLayer final : public Layer<T> {
 public:
  struct Param {
    std::string name;
    std::vector<py::ssize_t> shape;  // (k,) is a bias-like vector; (a, b) a weight-like matrix
  };

  PythonLayer(std::string type, std::string where, SharedCallable object, Index n_in, Index n_out,
              std::vector<Param> params, Json user_config)
      : type_(std::move(type)),
        where_(std::move(where)),
        object_(std::move(object)),
        params_info_(std::move(params)),
        user_config_(std::move(user_config)),
        identity_(make_activation<T>(Json("IDENTITY"))) {
    this->n_in_ = n_in;
    this->n_out_ = n_out;
  }

  std::string type() const override { return type_; }

  // A (k,) parameter is stored as a k x 1 bias vector (regularized only with regularize_bias);
  // an (a, b) one as a column-major b x a matrix, whose bytes are the C-order (a, b) array.
  std::vector<ParamInfo> param_info() const override {
    std::vector<ParamInfo> info;
    Index offset = 0;
    for (const auto& p : params_info_) {
      if (p.shape.size() == 1)
        info.push_back({p.name, offset, static_cast<Index>(p.shape[0]), 1, true});
      else
        info.push_back({p.name, offset, static_cast<Index>(p.shape[1]), static_cast<Index>(p.shape[0]), false});
      offset += info.back().rows * info.back().cols;
    }
    return info;
  }

  void bind(T* params, T* grads) override {
    params_ = params;
    grads_ = grads;
  }

  void init(Rng& rng) override {
    const std::uint64_t seed = rng.next_u64();
    py::gil_scoped_acquire gil;
    py::object generator = py::module_::import("numpy.random").attr("default_rng")(seed);
    call_with_views("initialize", true, [&](const py::dict& params) {
      return object_->attr("initialize")(params, generator);
    });
    if (!ConstVecMap<T>(params_, this->num_params()).allFinite())
      throw std::invalid_argument(where_ + ".initialize left NaN or infinity in the parameters");
  }

  void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng&) override {
    run_forward(in, out, mode == Mode::Training);
  }

  void infer(ConstMatMap<T> in, MatMap<T> out) const override { run_forward(in, out, false); }

  void backward(ConstMatMap<T> in, ConstMatMap<T> out, MatMap<T> dout, MatMap<T>* din) override {
    py::gil_scoped_acquire gil;
    py::object x = batch_array(in), y = batch_array(out), dy = batch_array(as_const(dout));
    const Index n = in.cols();
    call_with_views("backward", false, [&](const py::dict& params) {
      py::object result = object_->attr("backward")(x, y, dy, params);
      if (!(py::isinstance<py::tuple>(result) || py::isinstance<py::list>(result)) || py::len(result) != 2)
        throw std::invalid_argument(where_ + ".backward must return a pair (dx, {parameter name: gradient}), got " +
                                    describe(result));
      py::sequence pair = py::reinterpret_borrow<py::sequence>(result);
      if (din) {
        copy_array(pair[0], "backward", "dx", {n, this->n_in_}, din->data());
      } else {
        dx_scratch_.resize(this->n_in_, n);  // dx is checked even when nobody needs it
        copy_array(pair[0], "backward", "dx", {n, this->n_in_}, dx_scratch_.data());
      }
      copy_gradients(pair[1]);
      return py::none();
    });
  }

  const Activation<T>* activation() const override { return identity_.get(); }

  // {"type", "n_in", "n_out", "activation": IDENTITY, "config": the layer's get_config()}.
  Json config() const override {
    Json c = this->common_config();
    c.set("config", user_config_);
    return c;
  }

 private:
  static std::string describe(const py::handle& value) {
    return "a " + py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>();
  }

  static std::string shape_text(const std::vector<py::ssize_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
  }

  // A (batch, width) copy of a (width x batch) column-major block.
  static py::object batch_array(ConstMatMap<T> m) { return to_numpy<T>(m.data(), {m.cols(), m.rows()}); }

  void run_forward(ConstMatMap<T> in, MatMap<T> out, bool training) const {
    py::gil_scoped_acquire gil;
    py::object x = batch_array(in);
    call_with_views("forward", false, [&](const py::dict& params) {
      py::object result = object_->attr("forward")(x, params, training);
      copy_array(result, "forward", "y", {in.cols(), this->n_out_}, out.data());
      return py::none();
    });
  }

  // Calls `call(params)` with params = {name: view of the parameter}; results must be consumed
  // inside `call`. Afterwards no view may remain referenced (see the class comment).
  template <typename Call>
  void call_with_views(const char* method, bool writable, Call&& call) const {
    // Every view, and every view NumPy derives from one, has this capsule as its base.
    py::capsule owner(static_cast<const void*>(params_), "eigennet.layer_parameters");
    {
      py::dict params;
      Index offset = 0;
      for (const auto& p : params_info_) {
        py::array_t<T> view(p.shape, params_ + offset, owner);
        if (!writable) view.attr("setflags")(py::arg("write") = false);
        params[py::str(p.name)] = view;
        Index size = 1;
        for (auto d : p.shape) size *= static_cast<Index>(d);
        offset += size;
      }
      call(params);
    }
    if (owner.ref_count() > 1) {
      py::module_::import("gc").attr("collect")();  // a reference cycle is not a kept reference
      if (owner.ref_count() > 1)
        throw std::invalid_argument(
            where_ + "." + method + " kept a reference to a parameter array after returning; the arrays in params view "
            "the network's memory and are valid only during the call: keep a copy (params[name].copy()) instead");
    }
  }

  // Checks that `value` is a finite floating-point NumPy array of exactly `shape`, then copies it.
  void copy_array(const py::handle& value, const char* method, const std::string& what,
                  const std::vector<py::ssize_t>& shape, T* dest) const {
    const std::string prefix = where_ + "." + method + " returned ";
    if (!py::isinstance<py::array>(value))
      throw std::invalid_argument(prefix + describe(value) + " for " + what + "; a NumPy array of shape " +
                                  shape_text(shape) + " is needed");
    auto array = py::reinterpret_borrow<py::array>(value);
    if (array.dtype().kind() != 'f')
      throw std::invalid_argument(prefix + what + " of dtype " + py::str(array.dtype()).cast<std::string>() +
                                  "; a floating-point array is needed");
    const std::vector<py::ssize_t> got(array.shape(), array.shape() + array.ndim());
    if (got != shape)
      throw std::invalid_argument(prefix + what + " of shape " + shape_text(got) + ", expected " + shape_text(shape));
    auto converted = InputArray<T>::ensure(array);
    if (!converted) throw std::invalid_argument(prefix + what + " that cannot be converted to " + (sizeof(T) == 4 ? "float32" : "float64"));
    ConstVecMap<T> values(converted.data(), converted.size());
    if (!values.allFinite()) throw std::invalid_argument(prefix + what + " containing NaN or infinity");
    std::copy(values.data(), values.data() + values.size(), dest);
  }

  // The second item of backward's result: {name: gradient} with exactly the layer's parameters.
  // A frozen layer's gradients are checked but not stored (they stay zero).
  void copy_gradients(const py::handle& value) {
    if (params_info_.empty() && (value.is_none() || (py::isinstance<py::dict>(value) && py::len(value) == 0))) return;
    if (!py::isinstance<py::dict>(value))
      throw std::invalid_argument(where_ + ".backward must return the parameter gradients as a dict {name: array}, got " +
                                  describe(value));
    auto grads = py::reinterpret_borrow<py::dict>(value);
    for (const auto& item : grads) {
      bool known = false;
      for (const auto& p : params_info_) known = known || (py::isinstance<py::str>(item.first) && item.first.cast<std::string>() == p.name);
      if (!known)
        throw std::invalid_argument(where_ + ".backward returned a gradient for " + py::repr(item.first).cast<std::string>() +
                                    ", which is not a parameter of the layer");
    }
    Index offset = 0;
    for (const auto& p : params_info_) {
      Index size = 1;
      for (auto d : p.shape) size *= static_cast<Index>(d);
      if (!grads.contains(p.name))
        throw std::invalid_argument(where_ + ".backward returned no gradient for parameter \"" + p.name + "\"");
      if (this->frozen_) {
        scratch_grad_.resize(size);
        copy_array(grads[py::str(p.name)], "backward", "the gradient of \"" + p.name + "\"", p.shape, scratch_grad_.data());
      } else {
        copy_array(grads[py::str(p.name)], "backward", "the gradient of \"" + p.name + "\"", p.shape, grads_ + offset);
      }
      offset += size;
    }
  }

  std::string type_, where_;
  SharedCallable object_;
  std::vector<Param> params_info_;
  Json user_config_;
  std::unique_ptr<Activation<T>> identity_;
  T* params_ = nullptr;
  T* grads_ = nullptr;
  Matrix<T> dx_scratch_;
  Vector<T> scratch_grad_;
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
      .def("predict", [](const Net& n, const InputArray<T>& X) { return predict_array(n, as_columns<T>(X, "X")); })
      // X predicted in place when it is already what the core reads (a C-contiguous 2-D array of
      // this dtype with input_dim columns and at least one row); None otherwise, for the Python
      // side to convert and check. Saves a prediction of one sample most of its Python overhead.
      .def("predict_if_ready",
           [](const Net& n, py::handle X) -> py::object {
             using Ready = py::array_t<T, py::array::c_style>;
             if (!py::isinstance<Ready>(X)) return py::none();
             const auto array = py::reinterpret_borrow<Ready>(X);
             if (array.ndim() != 2 || array.shape(0) == 0 || array.shape(1) != n.input_dim()) return py::none();
             return predict_array(n, ConstMatMap<T>(array.data(), array.shape(1), array.shape(0)));
           })
      .def("fit_epoch",
           [](Net& n, const InputArray<T>& X, const InputArray<T>& Y, Index batch_size, bool shuffle,
              Index step_every, py::object on_step) {
             auto x = as_columns<T>(X, "X");
             auto y = as_columns<T>(Y, "y");
             if (on_step.is_none()) {
               py::gil_scoped_release release;
               return n.fit_epoch(x, y, batch_size, shuffle, python_signal_pending);
             }
             if (step_every < 1) throw std::invalid_argument("step_every must be >= 1");
             // The Python function runs every step_every-th iteration only: the GIL is taken
             // just for those steps.
             auto call = [&on_step, step_every](std::int64_t iteration, T score) {
               if (iteration % step_every != 0) return false;
               py::gil_scoped_acquire gil;
               return on_step(iteration, static_cast<double>(score)).template cast<bool>();
             };
             py::gil_scoped_release release;
             return n.fit_epoch(x, y, batch_size, shuffle, python_signal_pending, call);
           },
           py::arg("X"), py::arg("Y"), py::arg("batch_size"), py::arg("shuffle"), py::arg("step_every") = 1,
           py::arg("on_step") = py::none())
      .def("train_batch",
           [](Net& n, const InputArray<T>& X, const InputArray<T>& Y) {
             auto x = as_columns<T>(X, "X");
             auto y = as_columns<T>(Y, "y");
             py::gil_scoped_release release;
             return n.train_batch(x, y);
           },
           py::arg("X"), py::arg("Y"))
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
      .def("optimize_epoch",
           [](Net& n, const InputArray<T>& X, const InputArray<T>& Y, Index batch_size, bool shuffle,
              const std::string& options_json) {
             auto x = as_columns<T>(X, "X");
             auto y = as_columns<T>(Y, "y");
             const OptimizerOptions options = OptimizerOptions::from_json(Json::parse(options_json));
             std::vector<IterationInfo> iterations;
             OptimizerResult result;
             {
               py::gil_scoped_release release;
               auto record = [&iterations](const IterationInfo& info) {
                 iterations.push_back(info);
                 return true;
               };
               result = n.optimize_epoch(x, y, batch_size, shuffle, options, record, python_signal_pending);
             }
             py::list trace;
             for (const auto& info : iterations) {
               py::dict d;
               d["iteration"] = info.iteration;
               d["function_evaluations"] = info.function_evaluations;
               d["loss"] = info.value;
               d["gradient_norm"] = info.gradient_norm;
               d["step_size"] = info.step_size;
               d["damping"] = info.damping;
               d["cg_iterations"] = info.cg_iterations;
               trace.append(d);
             }
             py::dict out;
             out["iterations"] = result.iterations;
             out["function_evaluations"] = result.function_evaluations;
             out["curvature_products"] = result.curvature_products;
             out["loss"] = result.value;
             out["gradient_norm"] = result.gradient_norm;
             out["converged"] = result.converged;
             out["stop_reason"] = result.stop_reason;
             out["trace"] = trace;
             return out;
           })
      .def("objective_gradient",
           [](Net& n, const InputArray<T>& X, const InputArray<T>& Y) {
             auto x = as_columns<T>(X, "X");
             auto y = as_columns<T>(Y, "y");
             py::array_t<T> grad(static_cast<py::ssize_t>(n.num_params()));
             double value;
             {
               py::gil_scoped_release release;
               value = n.objective_gradient(x, y, VecMap<T>(grad.mutable_data(), n.num_params()));
             }
             return py::make_tuple(value, grad);
           })
      .def("gauss_newton_product",
           [](Net& n, const InputArray<T>& X, const InputArray<T>& Y, const InputArray<T>& V) {
             auto x = as_columns<T>(X, "X");
             auto y = as_columns<T>(Y, "y");
             if (V.ndim() != 1 || V.shape(0) != n.num_params())
               throw std::invalid_argument("v must have shape (" + std::to_string(n.num_params()) + ",)");
             py::array_t<T> out(static_cast<py::ssize_t>(n.num_params()));
             {
               py::gil_scoped_release release;
               n.gauss_newton_product(x, y, ConstVecMap<T>(V.data(), n.num_params()),
                                      VecMap<T>(out.mutable_data(), n.num_params()));
             }
             return out;
           })
      .def("supports_gauss_newton",
           [](const Net& n) {
             std::string why;
             const bool ok = n.supports_gauss_newton(&why);
             return py::make_tuple(ok, why);
           })
      .def("pretrain_layer",
           [](Net& n, std::size_t k, const InputArray<T>& X, Index epochs, Index batch_size, bool shuffle) {
             auto x = as_columns<T>(X, "X");
             py::gil_scoped_release release;
             return n.pretrain_layer(k, x, epochs, batch_size, shuffle, python_signal_pending);
           })
      .def("pretrainable_layers",
           [](const Net& n) {
             std::vector<std::size_t> out;
             for (std::size_t i = 0; i < n.num_layers(); ++i)
               if (n.layer(i).pretrainable()) out.push_back(i);
             return out;
           })
      .def("layer_input",
           [](const Net& n, std::size_t k, const InputArray<T>& X) {
             auto x = as_columns<T>(X, "X");
             Matrix<T> result;
             {
               py::gil_scoped_release release;
               result = n.layer_input(k, x);
             }
             return to_numpy<T>(result.data(), {result.cols(), result.rows()});
           })
      .def("layer_reconstruct",
           [](const Net& n, std::size_t k, const InputArray<T>& X) {
             auto x = as_columns<T>(X, "X");
             Matrix<T> result;
             {
               py::gil_scoped_release release;
               const Matrix<T> input = n.layer_input(k, x);
               result.resize(input.rows(), input.cols());
               MatMap<T> out(result.data(), result.rows(), result.cols());
               n.layer(k).reconstruct(ConstMatMap<T>(input.data(), input.rows(), input.cols()), out);
             }
             return to_numpy<T>(result.data(), {result.cols(), result.rows()});
           })
      .def("layer_reconstruction_error",
           [](const Net& n, std::size_t k, const InputArray<T>& X) {
             auto x = as_columns<T>(X, "X");
             py::gil_scoped_release release;
             const Matrix<T> input = n.layer_input(k, x);
             return n.layer(k).reconstruction_error(ConstMatMap<T>(input.data(), input.rows(), input.cols()));
           })
      .def("layer_reconstruction_log_probability",
           [](Net& n, std::size_t k, const InputArray<T>& X, Index samples) {
             auto x = as_columns<T>(X, "X");
             if (samples < 1) throw std::invalid_argument("num_samples must be >= 1, got " + std::to_string(samples));
             Vector<T> result;
             {
               py::gil_scoped_release release;
               const Matrix<T> input = n.layer_input(k, x);
               result.resize(input.cols());
               n.layer(k).reconstruction_log_probability(ConstMatMap<T>(input.data(), input.rows(), input.cols()),
                                                         samples, n.rng(), result);
             }
             return to_numpy<T>(result.data(), {result.size()});
           })
      .def("layer_generate",
           [](const Net& n, std::size_t k, const InputArray<T>& Z) {
             if (k >= n.num_layers()) throw std::invalid_argument("layer index out of range");
             auto z = as_columns<T>(Z, "Z");
             const Layer<T>& layer = n.layer(k);
             if (z.rows() != layer.n_out())
               throw std::invalid_argument("Z has " + std::to_string(z.rows()) + " columns, but layer " + std::to_string(k) +
                                           " has a latent size of " + std::to_string(layer.n_out()));
             Matrix<T> result(layer.n_in(), z.cols());
             {
               py::gil_scoped_release release;
               MatMap<T> out(result.data(), result.rows(), result.cols());
               layer.generate(z, out);
             }
             return to_numpy<T>(result.data(), {result.cols(), result.rows()});
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
      .def("set_updater_state",
           [](Net& n, const std::string& name, py::array_t<T, py::array::c_style | py::array::forcecast> values) {
             const auto names = n.updater().state_names();
             const auto found = std::find(names.begin(), names.end(), name);
             if (found == names.end())
               throw std::invalid_argument("the updater has no state \"" + name + "\"");
             if (values.ndim() != 1 || values.shape(0) != n.num_params())
               throw std::invalid_argument("updater state \"" + name + "\" needs " + std::to_string(n.num_params()) +
                                           " values");
             auto& state = n.updater().state()[static_cast<std::size_t>(found - names.begin())];
             std::copy(values.data(), values.data() + values.shape(0), state.data());
           })
      .def("save",
           [](const Net& n, const std::string& path, const std::string& extra) {
             Json extra_json = Json::parse(extra);
             py::gil_scoped_release release;
             save_network<T>(n, path, extra_json);
           })
      .def("to_bytes",
           [](const Net& n, const std::string& extra) {
             Json extra_json = Json::parse(extra);
             std::string bytes;
             {
               py::gil_scoped_release release;
               bytes = save_network_to_bytes<T>(n, extra_json);
             }
             return py::bytes(bytes);
           })
      .def_static("from_bytes",
                  [](const py::bytes& data) {
                    std::string bytes = data;
                    Json extra;
                    std::unique_ptr<Net> net;
                    {
                      py::gil_scoped_release release;
                      net = load_network_from_bytes<T>(bytes, &extra);
                    }
                    return py::make_tuple(std::move(net), extra.dump());
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

// Registers a Python layer type. builder(config_json, n_in, where) (made by eigennet.CustomLayer,
// which checks what the user's class returns) gives (layer object, n_out, [(name, shape)],
// JSON of the layer's get_config()).
template <typename T>
void register_python_layer(const std::string& type, SharedCallable builder) {
  register_layer_type<T>(type, [type, builder](const Json& config, Index n_in, const std::string& where)
                                   -> std::unique_ptr<Layer<T>> {
    py::gil_scoped_acquire gil;
    py::tuple spec = (*builder)(config.dump(), n_in, where).template cast<py::tuple>();
    if (spec.size() != 4) throw std::invalid_argument(where + ": malformed layer specification from Python");
    const auto n_out = spec[1].cast<std::int64_t>();
    if (n_out < 1 || n_out > (std::int64_t(1) << 31))
      throw std::invalid_argument(where + ": output_dim must be in [1, 2^31], got " + std::to_string(n_out));
    if (const Json* stored = config.find("n_out"); stored && !stored->is_null() && stored->as_int("n_out") != n_out)
      throw std::invalid_argument(where + ": the configuration says n_out " + std::to_string(stored->as_int()) +
                                  " but output_dim(" + std::to_string(n_in) + ") gives " + std::to_string(n_out));
    std::vector<typename PythonLayer<T>::Param> params;
    for (const auto& item : spec[2]) {
      auto entry = item.cast<py::tuple>();
      params.push_back({entry[0].cast<std::string>(), entry[1].cast<std::vector<py::ssize_t>>()});
      const auto& shape = params.back().shape;
      if (shape.empty() || shape.size() > 2 || shape[0] < 1 || shape.back() < 1)
        throw std::invalid_argument(where + ": parameter \"" + params.back().name + "\" needs a 1-D or 2-D shape");
    }
    return std::make_unique<PythonLayer<T>>(type, where, share(py::object(spec[0])), n_in, static_cast<Index>(n_out),
                                            std::move(params), Json::parse(spec[3].cast<std::string>()));
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
  // Only C-contiguous float32 / float64 arrays, checked in place (no conversion, no copy); the
  // Python caller handles everything else with NumPy.
  m.def("all_finite",
        [](py::array_t<float, py::array::c_style> values) {
          py::gil_scoped_release release;
          return all_finite(values.data(), static_cast<Index>(values.size()));
        },
        py::arg("values").noconvert());
  m.def("all_finite",
        [](py::array_t<double, py::array::c_style> values) {
          py::gil_scoped_release release;
          return all_finite(values.data(), static_cast<Index>(values.size()));
        },
        py::arg("values").noconvert());
  // The sizes from which work is split across threads (tests size their networks by them).
  m.attr("PARALLEL_PRODUCT_MULTIPLY_ADDS") = kParallelMultiplyAdds;
  m.attr("PARALLEL_UPDATE_ELEMENTS") = kParallelElements;
  m.def("activation_names", [] { return activation_registry<double>().names(); });
  m.def("loss_names", [] { return loss_registry<double>().names(); });
  m.def("updater_names", &updater_names);
  m.def("algorithm_names", &algorithm_names);
  m.def("canonical_gradient_normalization",
        [](const std::string& spec) { return GradientNormalizationConfig::from_json(Json::parse(spec)).to_json().dump(); });
  m.def("canonical_algorithm", [](const std::string& name) { return algorithm_name(parse_algorithm(name)); });
  m.def("canonical_optimizer_options",
        [](const std::string& spec) { return OptimizerOptions::from_json(Json::parse(spec)).to_json().dump(); });
  m.def("canonical_weight_init", [](const std::string& spec) { return canonical_weight_init(Json::parse(spec)).dump(); });
  m.def("canonical_activation", [](const std::string& spec) { return make_activation<double>(Json::parse(spec))->config().dump(); });
  m.def("canonical_loss", [](const std::string& spec) { return make_loss<double>(Json::parse(spec))->config().dump(); });
  m.def("canonical_updater", [](const std::string& spec) { return make_updater<double>(Json::parse(spec))->config().dump(); });
  m.def("schedule_names", &schedule_names);
  m.def("canonical_schedule", [](const std::string& spec) { return make_schedule(Json::parse(spec))->config().dump(); });
  m.def("schedule_value",
        [](const std::string& spec, std::int64_t iteration, std::int64_t epoch) {
          return make_schedule(Json::parse(spec))->value_at(iteration, epoch);
        },
        py::arg("config"), py::arg("iteration"), py::arg("epoch"));
  m.def("model_dtype", &model_dtype, py::arg("path"));
  m.def("model_dtype_from_bytes", [](const py::bytes& data) { return model_dtype_from_bytes(std::string(data)); },
        py::arg("data"));
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
  m.def("register_layer", [](const std::string& type, py::object builder) {
    auto b = share(std::move(builder));
    register_python_layer<float>(type, b);
    register_python_layer<double>(type, b);
  });
  m.def("layer_type_names", [] { return layer_type_names<double>(); });
}
