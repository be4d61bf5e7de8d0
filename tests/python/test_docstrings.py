"""Every public name of the package carries a docstring (inherited ones count)."""

from __future__ import annotations

import importlib
import inspect

import eigennet

MODULES = ["callbacks", "data", "datasets", "evaluation", "export", "plotting", "schedules", "sklearn", "transfer",
           "unsupervised", "layers", "updaters", "activations", "losses", "initializers", "model", "custom", "spark"]


def _public(module):
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name, None)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and getattr(obj, "__module__", "").startswith("eigennet"):
            yield name, obj


def test_public_classes_functions_methods_and_properties_are_documented():
    missing = []
    for module in [eigennet] + [importlib.import_module(f"eigennet.{m}") for m in MODULES]:
        for name, obj in _public(module):
            if not inspect.getdoc(obj):
                missing.append(f"{module.__name__}.{name}")
            if not inspect.isclass(obj):
                continue
            for member in dir(obj):
                if member.startswith("_"):
                    continue
                static = inspect.getattr_static(obj, member)
                target = static if isinstance(static, property) else getattr(obj, member)
                if (isinstance(static, property) or inspect.isfunction(target) or inspect.ismethod(target)) \
                        and not inspect.getdoc(target):
                    missing.append(f"{module.__name__}.{name}.{member}")
    assert not missing, sorted(set(missing))
