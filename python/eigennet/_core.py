"""The compiled core, loaded in the build for the best instruction set this CPU supports.

The wheel carries one extension module per x86-64 level (``_core_avx512``: AVX-512 F/BW/CD/DQ/VL,
``_core_avx2``: AVX2 + FMA, ``_core_generic``: SSE4.2), because Eigen chooses its SIMD kernels at
compile time: one module built for the oldest CPUs would run 2-4x slower on new ones, and one built
for new CPUs would crash old ones. Set ``EIGENNET_ISA`` to ``avx512``, ``avx2`` or ``generic`` to
override the choice (for example to compare levels); ``ISA`` tells which one is loaded.
"""

from __future__ import annotations

import importlib
import os
from typing import FrozenSet, List

_LEVELS = (
    ("avx512", frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "avx2", "fma", "bmi2"})),
    ("avx2", frozenset({"avx2", "fma", "bmi1", "bmi2", "f16c", "movbe"})),
    ("generic", frozenset()),
)


def _cpu_flags() -> FrozenSet[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _candidates() -> List[str]:
    requested = os.environ.get("EIGENNET_ISA", "").strip().lower()
    names = [name for name, _ in _LEVELS]
    if requested:
        if requested not in names:
            raise ImportError(f"EIGENNET_ISA={requested!r} is not one of {', '.join(names)}")
        return [requested]
    flags = _cpu_flags()
    return [name for name, needed in _LEVELS if needed <= flags]


def _load():
    errors = []
    for name in _candidates():
        try:
            return name, importlib.import_module(f"{__package__}._core_{name}")
        except ImportError as exc:  # a build without that level (e.g. not x86-64)
            errors.append(f"_core_{name}: {exc}")
    raise ImportError("no usable eigennet extension module: " + "; ".join(errors))


ISA, _module = _load()
globals().update({k: v for k, v in vars(_module).items() if not k.startswith("__")})
FormatError.__module__ = "eigennet"  # type: ignore[name-defined]  # shown in tracebacks as eigennet.FormatError
