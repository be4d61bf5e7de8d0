"""eigennet: fast feed-forward neural networks on the CPU, with a C++/Eigen core and DL4J's vocabulary."""

__version__ = "0.1.0"

from . import _core, schedules
from ._core import FormatError
from .activations import ELU, GELU, Activation, LeakyReLU, RReLU, ThresholdedReLU, register_activation
from .custom import CustomLayer
from .datasets import load_digits, load_iris, train_test_split
from .initializers import Constant, Normal, Uniform
from .layers import (
    ActivationLayer,
    AlphaDropout,
    BatchNormalization,
    Dense,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    Layer,
    LossLayer,
    Output,
)
from .losses import Loss, register_loss
from .model import History, LayerIndexError, Sequential, from_bytes, load
from .transfer import TransferLearning
from .unsupervised import RBM, AutoEncoder, VariationalAutoencoder
from .updaters import (
    SGD,
    AdaDelta,
    AdaGrad,
    AdaMax,
    Adam,
    AMSGrad,
    Nadam,
    Nesterovs,
    NoOp,
    RMSProp,
    Updater,
)


def set_num_threads(n: int) -> None:
    """Number of threads for matrix products (default: one per core)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads needs a positive integer, got {n!r}")
    _core.set_num_threads(n)


def build_info() -> dict:
    """How this eigennet was built and runs: the instruction-set level loaded ("avx512", "avx2" or
    "generic"), the SIMD sets Eigen uses, Eigen's version, OpenMP (always False: the core runs its
    own worker threads), the compiler, the thread count."""
    info = {"isa": _core.ISA, **_core.build_info(), "num_threads": _core.get_num_threads(), "version": __version__}
    return info


def get_num_threads() -> int:
    """Number of threads used for matrix products."""
    return _core.get_num_threads()


__all__ = [
    "__version__", "FormatError",
    "Sequential", "History", "LayerIndexError", "load", "from_bytes", "TransferLearning",
    "Layer", "Dense", "Output", "ActivationLayer", "LossLayer", "CustomLayer",
    "BatchNormalization", "Dropout", "GaussianDropout", "AlphaDropout", "GaussianNoise",
    "AutoEncoder", "RBM", "VariationalAutoencoder",
    "Activation", "LeakyReLU", "RReLU", "ELU", "GELU", "ThresholdedReLU", "register_activation",
    "Loss", "register_loss",
    "Constant", "Normal", "Uniform",
    "Updater", "SGD", "Nesterovs", "AdaGrad", "RMSProp", "AdaDelta", "Adam", "AdaMax", "Nadam", "AMSGrad", "NoOp",
    "load_digits", "load_iris", "train_test_split",
    "set_num_threads", "get_num_threads", "build_info",
]

# Submodules loaded on first use, so that `import eigennet` stays fast.
_LAZY_SUBMODULES = ("callbacks", "data", "evaluation", "plotting", "sklearn")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'eigennet' has no attribute {name!r}")
