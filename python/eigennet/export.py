"""Export: a model's inference graph to ONNX, and its configuration to and from JSON and YAML.

:func:`to_onnx` (``model.to_onnx(path)``) writes an ONNX graph of the inference-time network: input
``"X"`` (the model's float type, shape (batch, input_dim) with a dynamic batch dimension), output
``"output"`` (what :meth:`~eigennet.Sequential.predict_output` returns) and, for classifiers, a second
output ``"probabilities"`` (what :meth:`~eigennet.Sequential.predict_proba` returns: [1 - p, p] for a
single sigmoid output). Noise layers (dropout and friends) are dropped, BatchNormalization uses its
running statistics and RReLU its mean slope, exactly as :meth:`predict_output` does. It needs the
``onnx`` package (``pip install eigennet[onnx]``), imported only when exporting.

:func:`config_to_dict` and :func:`model_from_config` back :meth:`~eigennet.Sequential.to_json`,
:meth:`~eigennet.Sequential.from_json`, :meth:`~eigennet.Sequential.to_yaml` and
:meth:`~eigennet.Sequential.from_yaml` (DL4J ``toJson``/``fromJson``): the configuration only, no
parameters.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .model import Sequential

__all__ = ["to_onnx", "config_to_dict", "model_from_config", "DEFAULT_OPSET", "CONFIG_FORMAT"]

#: The default ONNX opset of :func:`to_onnx` (13 is the oldest accepted).
DEFAULT_OPSET = 17
_MIN_OPSET = 13
#: The "format" field of an exported configuration.
CONFIG_FORMAT = "eigennet-config"
_CONFIG_VERSION = 1

# Layers that are the identity at inference.
_NOISE_LAYERS = frozenset({"Dropout", "GaussianDropout", "AlphaDropout", "GaussianNoise"})


# ============================================================================ ONNX
class _GraphBuilder:
    """Collects nodes and initializers; every tensor name is unique."""

    def __init__(self, onnx: Any, np_dtype: Any) -> None:
        self.onnx = onnx
        self.helper = onnx.helper
        self.np_dtype = np.dtype(np_dtype)
        self.float32 = self.np_dtype == np.float32
        self.nodes: List[Any] = []
        self.initializers: List[Any] = []
        self._count = 0
        self._constants: Dict[float, str] = {}

    def fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def initializer(self, stem: str, array: np.ndarray) -> str:
        name = self.fresh(stem)
        array = np.ascontiguousarray(array, dtype=self.np_dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name=name))
        return name

    def const(self, value: float) -> str:
        """A scalar of the model's float type (rounded to it as the C++ core's ``T(value)`` is)."""
        value = float(self.np_dtype.type(value))
        if value not in self._constants:
            self._constants[value] = self.initializer("const", np.array(value, dtype=self.np_dtype))
        return self._constants[value]

    def node(self, op: str, inputs: List[str], stem: Optional[str] = None, **attrs: Any) -> str:
        out = self.fresh(stem or op.lower())
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    # ------------------------------------------------------------ activations
    def softplus(self, x: str) -> str:
        # max(z, 0) + log(1 + e^-|z|), which never overflows (ONNX Softplus may for large z).
        tail = self.node("Log", [self.node("Add", [self.const(1.0), self.node("Exp", [self.node("Neg", [self.node("Abs", [x])])])])])
        return self.node("Add", [self.node("Relu", [x]), tail], "softplus")

    def where_positive(self, x: str, threshold: float, negative: str) -> str:
        return self.node("Where", [self.node("Greater", [x, self.const(threshold)]), x, negative])

    def activation(self, x: str, config: Dict[str, Any], where: str) -> str:
        name = str(config.get("name", "")).upper()
        native = self.float32  # float attributes of ONNX ops are float32: exact only for float32 models
        if name in ("IDENTITY", "LINEAR"):
            return x
        if name == "RELU":
            return self.node("Relu", [x])
        if name == "RELU6":
            return self.node("Clip", [x, self.const(0.0), self.const(6.0)], "relu6")
        if name == "HARDTANH":
            return self.node("Clip", [x, self.const(-1.0), self.const(1.0)], "hardtanh")
        if name == "SIGMOID":
            return self.node("Sigmoid", [x])
        if name == "TANH":
            return self.node("Tanh", [x])
        if name == "SOFTMAX":
            return self.node("Softmax", [x], axis=-1)
        if name in ("LEAKYRELU", "RRELU"):
            if name == "LEAKYRELU":
                slope = self.np_dtype.type(config.get("alpha", 0.01))
            else:  # the mean slope at inference, computed in the model's precision as the core does
                t = self.np_dtype.type
                slope = (t(config.get("lower", 1.0 / 8.0)) + t(config.get("upper", 1.0 / 3.0))) / t(2)
            if native:
                return self.node("LeakyRelu", [x], name.lower(), alpha=float(slope))
            return self.where_positive(x, 0.0, self.node("Mul", [x, self.const(float(slope))]))
        if name == "ELU":
            alpha = float(config.get("alpha", 1.0))
            if native:
                return self.node("Elu", [x], alpha=alpha)
            neg = self.node("Sub", [self.node("Exp", [self.node("Min", [x, self.const(0.0)])]), self.const(1.0)])
            return self.where_positive(x, 0.0, self.node("Mul", [neg, self.const(alpha)]))
        if name == "SELU":
            alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
            if native:
                return self.node("Selu", [x], alpha=alpha, gamma=scale)
            neg = self.node("Sub", [self.node("Exp", [self.node("Min", [x, self.const(0.0)])]), self.const(1.0)])
            inner = self.where_positive(x, 0.0, self.node("Mul", [neg, self.const(alpha)]))
            return self.node("Mul", [inner, self.const(scale)], "selu")
        if name == "HARDSIGMOID":  # DL4J's min(1, max(0, 0.2 z + 0.5))
            if native:
                return self.node("HardSigmoid", [x], alpha=0.2, beta=0.5)
            lin = self.node("Add", [self.node("Mul", [x, self.const(0.2)]), self.const(0.5)])
            return self.node("Clip", [lin, self.const(0.0), self.const(1.0)], "hardsigmoid")
        if name == "THRESHOLDEDRELU":
            theta = float(config.get("theta", 1.0))
            if native:
                return self.node("ThresholdedRelu", [x], alpha=theta)
            return self.where_positive(x, theta, self.const(0.0))
        if name == "SOFTPLUS":
            return self.softplus(x)
        if name == "SOFTSIGN":
            if native:
                return self.node("Softsign", [x])
            return self.node("Div", [x, self.node("Add", [self.const(1.0), self.node("Abs", [x])])], "softsign")
        if name == "CUBE":
            return self.node("Mul", [self.node("Mul", [x, x]), x], "cube")
        if name == "SWISH":
            return self.node("Mul", [x, self.node("Sigmoid", [x])], "swish")
        if name == "MISH":
            return self.node("Mul", [x, self.node("Tanh", [self.softplus(x)])], "mish")
        if name == "GELU":
            half_x = self.node("Mul", [x, self.const(0.5)])
            if config.get("approximate", "none") == "tanh":
                cube = self.node("Mul", [self.node("Mul", [x, x]), x])
                inner = self.node("Add", [x, self.node("Mul", [cube, self.const(0.044715)])])
                t = self.node("Tanh", [self.node("Mul", [inner, self.const(0.79788456080286535587989211986876)])])
            else:
                t = self.node("Erf", [self.node("Mul", [x, self.const(0.70710678118654752440084436210485)])])
            return self.node("Mul", [half_x, self.node("Add", [self.const(1.0), t])], "gelu")
        if name == "RATIONALTANH":
            # 1.7159 sgn(y) (1 - 1 / (1 + |y| + y^2 + 1.41645 y^4)), y = 2z/3
            two_thirds = float(self.np_dtype.type(2) / self.np_dtype.type(3))
            y = self.node("Mul", [x, self.const(two_thirds)])
            ay = self.node("Abs", [y])
            ay2 = self.node("Mul", [ay, ay])
            quartic = self.node("Mul", [self.node("Mul", [ay2, ay2]), self.const(1.41645)])
            den = self.node("Add", [self.node("Add", [self.node("Add", [self.const(1.0), ay]), ay2]), quartic])
            r = self.node("Sub", [self.const(1.0), self.node("Div", [self.const(1.0), den])])
            return self.node("Mul", [self.node("Mul", [self.node("Sign", [y]), self.const(1.7159)]), r], "rationaltanh")
        raise NotImplementedError(
            f"{where}: activation {config.get('name')!r} cannot be exported to ONNX (only the built-in ones can)")

    def dense(self, x: str, model: "Sequential", index: int, w: str, b: Optional[str], stem: str) -> str:
        weight = self.initializer(f"{stem}_{w}", model.get_param(index, w))
        out = self.node("MatMul", [x, weight], f"{stem}_matmul")
        if b is not None:
            out = self.node("Add", [out, self.initializer(f"{stem}_{b}", model.get_param(index, b))], f"{stem}_add")
        return out


def _check_opset(opset: Any, onnx: Any) -> int:
    newest = int(onnx.defs.onnx_opset_version())
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"opset must be an integer, got {type(opset).__name__}")
    if not _MIN_OPSET <= int(opset) <= newest:
        raise ValueError(f"opset must be between {_MIN_OPSET} and {newest} (the installed onnx's newest), got {opset}")
    return int(opset)


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError("exporting to ONNX needs the onnx package: pip install onnx (or eigennet[onnx])") from None
    return onnx


def to_onnx(model: "Sequential", path: Optional[Union[str, "os.PathLike[str]"]] = None,
            opset: int = DEFAULT_OPSET) -> Any:
    """Build the ONNX graph of ``model``'s inference and write it to ``path`` (if given).

    Returns the ``onnx.ModelProto``. Raises ``NotImplementedError`` naming the layer for layers or
    activations with no ONNX form (custom Python ones); ``RuntimeError`` if the model is not built.
    """
    onnx = _import_onnx()
    opset = _check_opset(opset, onnx)
    net = model._network()  # raises if not built
    config = json.loads(net.config())
    g = _GraphBuilder(onnx, model._np_dtype)
    x = "X"
    normalizer = getattr(model, "normalizer", None)
    if normalizer is not None:  # the model's input normalizer: (x - shift) * scale
        if not normalizer.fitted:
            raise RuntimeError("the model's normalizer is not fitted yet: train the model (fit) first")
        x = g.node("Sub", [x, g.initializer("normalizer_shift", normalizer.shift)], "normalize_center")
        x = g.node("Mul", [x, g.initializer("normalizer_scale", normalizer.scale)], "normalize_scale")
    for i, layer in enumerate(config["layers"]):
        kind = layer.get("type")
        stem = f"layer{i}"
        where = f"layer {i} ({kind})"
        if kind in ("Dense", "Output"):
            x = g.dense(x, model, i, "W", "b" if layer.get("has_bias", True) else None, stem)
            x = g.activation(x, layer["activation"], where)
        elif kind == "AutoEncoder":
            x = g.activation(g.dense(x, model, i, "W", "b", stem), layer["activation"], where)
        elif kind == "RBM":
            x = g.node("Sigmoid", [g.dense(x, model, i, "W", "b", stem)])
        elif kind == "VariationalAutoencoder":  # the mean of q(z|x): encoder MLP then the mu head
            for l in range(len(layer.get("encoder_layer_sizes", []))):
                h = g.dense(x, model, i, f"enc{l}_W", f"enc{l}_b", f"{stem}_enc{l}")
                x = g.activation(h, layer["activation"], where)
            x = g.dense(x, model, i, "mu_W", "mu_b", f"{stem}_mu")
        elif kind in ("Activation", "Loss"):
            x = g.activation(x, layer["activation"], where)
        elif kind == "BatchNormalization":
            t = model._np_dtype
            n = int(layer["n_out"])
            if layer.get("lock_gamma_beta", False):
                gamma = np.full(n, layer.get("gamma", 1.0), dtype=t)
                beta = np.full(n, layer.get("beta", 0.0), dtype=t)
            else:
                gamma, beta = model.get_param(i, "gamma"), model.get_param(i, "beta")
            # The core's inference arithmetic: gamma * ((x - mean) * (1 / sqrt(var + eps))) + beta.
            inv_std = t(1) / np.sqrt(model.get_param(i, "var").astype(t) + t(layer.get("eps", 1e-5)))
            centred = g.node("Sub", [x, g.initializer(f"{stem}_mean", model.get_param(i, "mean"))], f"{stem}_center")
            xhat = g.node("Mul", [centred, g.initializer(f"{stem}_inv_std", inv_std)], f"{stem}_normalize")
            scaled = g.node("Mul", [g.initializer(f"{stem}_gamma", gamma), xhat], f"{stem}_scale")
            x = g.node("Add", [scaled, g.initializer(f"{stem}_beta", beta)], f"{stem}_shift")
        elif kind in _NOISE_LAYERS:
            continue  # the identity at inference
        else:
            raise NotImplementedError(f"{where} cannot be exported to ONNX: only the built-in layers can")

    helper = onnx.helper
    elem = onnx.TensorProto.FLOAT if g.float32 else onnx.TensorProto.DOUBLE
    n_out = int(net.output_dim)
    g.nodes.append(helper.make_node("Identity", [x], ["output"], name="output"))
    outputs = [helper.make_tensor_value_info("output", elem, ["batch", n_out])]
    if model.is_classifier:
        if model.task == "binary":
            one_minus = g.node("Sub", [g.const(1.0), "output"], "negative_class")
            g.nodes.append(helper.make_node("Concat", [one_minus, "output"], ["probabilities"], name="probabilities", axis=1))
            width = 2
        else:
            g.nodes.append(helper.make_node("Identity", ["output"], ["probabilities"], name="probabilities"))
            width = n_out
        outputs.append(helper.make_tensor_value_info("probabilities", elem, ["batch", width]))
    graph = helper.make_graph(
        g.nodes, "eigennet_sequential",
        [helper.make_tensor_value_info("X", elem, ["batch", int(net.input_dim)])],
        outputs, initializer=g.initializers)
    opset_ids = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opset_ids, producer_name="eigennet",
                              producer_version=_version(), doc_string="eigennet Sequential model (inference)")
    proto.ir_version = helper.find_min_ir_version_for(opset_ids)
    helper.set_model_props(proto, {"eigennet_config": json.dumps(config)})
    onnx.checker.check_model(proto)
    if path is not None:
        onnx.save_model(proto, os.fspath(path))
    return proto


def _version() -> str:
    from . import __version__

    return __version__


# ============================================================================ configuration
def config_to_dict(model: "Sequential") -> Dict[str, Any]:
    """The model's configuration without parameters, as plain JSON-compatible data."""
    config = {"format": CONFIG_FORMAT, "version": _CONFIG_VERSION, "dtype": model.dtype}
    config.update(model.get_config())
    normalizer = getattr(model, "normalizer", None)
    if normalizer is not None:  # its kind and options; the fitted statistics are data, not configuration
        config["normalizer"] = {k: v for k, v in normalizer.get_config().items() if k not in ("shift", "scale")}
    return config


def model_from_config(config: Any, source: str = "configuration") -> "Sequential":
    """A fresh :class:`~eigennet.Sequential` from :func:`config_to_dict`'s data; ``ValueError`` if invalid.

    The model is built (with weights initialised from the stored seed) when the configuration
    records ``input_dim``, and unbuilt otherwise.
    """
    from .layers import Layer
    from .model import Sequential

    if not isinstance(config, dict):
        raise ValueError(f"{source}: a model configuration must be a mapping, got {type(config).__name__}")
    fmt = config.get("format", CONFIG_FORMAT)
    if fmt != CONFIG_FORMAT:
        raise ValueError(f"{source}: not an eigennet model configuration (format {fmt!r})")
    version = config.get("version", _CONFIG_VERSION)
    if version != _CONFIG_VERSION:
        raise ValueError(f"{source}: unsupported configuration version {version!r} (this eigennet reads {_CONFIG_VERSION})")
    try:
        layers = config["layers"]
        if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
            raise ValueError('"layers" must be a list of layer configurations')
        normalization = config.get("gradient_normalization") or {}
        if not isinstance(normalization, dict):
            raise ValueError('"gradient_normalization" must be a mapping or null')
        kwargs: Dict[str, Any] = {
            "updater": config.get("updater"),
            "l1": config.get("l1", 0.0),
            "l2": config.get("l2", 0.0),
            "weight_decay": config.get("weight_decay", 0.0),
            "regularize_bias": config.get("regularize_bias", False),
            "dtype": config.get("dtype", "float32"),
            "gradient_normalization": normalization.get("name"),
            "gradient_normalization_threshold": normalization.get("threshold", 1.0),
        }
        if config.get("normalizer") is not None:
            from .data import normalizer_from_config

            kwargs["normalizer"] = normalizer_from_config(
                {k: v for k, v in config["normalizer"].items() if k not in ("shift", "scale")})
        if config.get("seed") is not None:
            kwargs["seed"] = config["seed"]
        model = Sequential([Layer.from_config(layer) for layer in layers], **kwargs)
        if config.get("input_dim") is not None:
            model.build(config["input_dim"])
    except ValueError as exc:
        raise ValueError(f"{source}: invalid model configuration: {exc}") from None
    except (KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise ValueError(f"{source}: invalid model configuration ({type(exc).__name__}: {exc})") from None
    return model


def parse_json(text: Union[str, bytes]) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"invalid JSON model configuration: {exc}") from None


def parse_yaml(text: Union[str, bytes]) -> Any:
    yaml = _import_yaml()
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML model configuration: {exc}") from None


def dump_yaml(config: Dict[str, Any]) -> str:
    return _import_yaml().safe_dump(config, sort_keys=False, default_flow_style=False)


def _import_yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise ImportError("YAML configurations need the pyyaml package: pip install pyyaml (or eigennet[yaml])") from None
    return yaml

